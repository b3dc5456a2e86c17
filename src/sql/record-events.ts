import { sql } from "drizzle-orm";
import { jsonParam, runPrepared, type Tx } from "../db/client.js";
import type { events } from "../db/schema.js";

/** An event as the event log stores it, with what became of it (`recorded_at` is now()). */
export type EventRow = Omit<typeof events.$inferSelect, "recordedAt" | "payloadSha256"> & {
  payloadSha256: string;
};

/** Per event: `fresh` when recorded now; `conflict` when its id was held with another body. */
export type RecordedEvent = { event_id: string; fresh: boolean; conflict: boolean };

/**
 * Records the events; says of each whether it is new. The event id is the idempotency key: a
 * second delivery changes nothing, and one with another body (by its hash) is a conflict. A
 * poison event recorded earlier may be re-driven: its row is overwritten whole with the new
 * body and outcome, so the row always holds the body that was projected, and it counts as new.
 *
 * The existing row is read from the statement's snapshot, before the insert: a concurrent first
 * delivery of the same id (which the insert waits for) is then neither fresh nor a conflict.
 */
export const recordEvents = (tx: Tx, rows: EventRow[]) =>
  runPrepared<RecordedEvent>(tx, recordEventsStatement(rows));

/**
 * recordEvents' statement, apart so a test can EXPLAIN exactly what runs.
 *
 * The rows travel as one `json` parameter, read back by `json_to_recordset`, not as a `text[]`
 * per column: postgres.js escapes every element of a `text[]` with two regular expressions in
 * JavaScript, which for the bodies was about 3.5% of the worker's CPU in a profile of the drain,
 * where its serializer for `json`, `JSON.stringify`, is native. The keys are the rows' own
 * property names, so no row is copied to build the parameter.
 */
export const recordEventsStatement = (rows: EventRow[]) => sql`
    with input as (
      select "eventId" as event_id, "eventType" as event_type, "workspaceId" as workspace_id,
             "occurredAt" as occurred_at, "receivedAt" as received_at, source, payload,
             "payloadSha256" as payload_sha256, outcome, error
      from json_to_recordset(${jsonParam(rows)}::json)
        as e("eventId" text, "eventType" text, "workspaceId" text, "occurredAt" timestamptz,
             "receivedAt" timestamptz, source text, payload text, "payloadSha256" text,
             outcome text, error text)
    ), inserted as (
      insert into events (event_id, event_type, workspace_id, occurred_at, received_at, recorded_at,
                          source, payload, payload_sha256, outcome, error)
      select event_id, event_type, workspace_id, occurred_at, received_at, now(),
             source, payload, payload_sha256, outcome, error
      from input
      on conflict (event_id) do update
        set event_type = excluded.event_type, workspace_id = excluded.workspace_id,
            occurred_at = excluded.occurred_at, received_at = excluded.received_at,
            recorded_at = excluded.recorded_at, source = excluded.source,
            payload = excluded.payload, payload_sha256 = excluded.payload_sha256,
            outcome = excluded.outcome, error = excluded.error
        where events.outcome = 'poison'
      returning event_id
    )
    select i.event_id, n.event_id is not null as fresh,
           case when n.event_id is null
                then coalesce((select e.payload_sha256 <> i.payload_sha256
                               from events e where e.event_id = i.event_id), false)
                else false end as conflict
    from input i
    left join inserted n on n.event_id = i.event_id`;
