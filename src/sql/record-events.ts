import { sql } from "drizzle-orm";
import { arrayParam, runPrepared, type Tx } from "../db/client.js";
import type { events } from "../db/schema.js";

/** An event as the event log stores it, with what became of it (`recorded_at` is now()). */
export type EventRow = Omit<typeof events.$inferSelect, "recordedAt">;

/**
 * Records the events; returns the ids that are new. The event id is the idempotency key: a
 * second delivery changes nothing. A poison event recorded earlier may be re-driven: its row is
 * overwritten with the new outcome and it counts as new again.
 */
export const recordEvents = (tx: Tx, rows: EventRow[]) => {
  const col = <K extends keyof EventRow>(key: K) => arrayParam(rows.map((row) => row[key]));
  return runPrepared<{ event_id: string }>(
    tx,
    sql`
    insert into events (event_id, event_type, workspace_id, occurred_at, received_at, recorded_at,
                        source, payload, outcome, error)
    select e.event_id, e.event_type, e.workspace_id, e.occurred_at, e.received_at, now(),
           e.source, e.payload, e.outcome, e.error
    from unnest(${col("eventId")}::text[], ${col("eventType")}::text[], ${col("workspaceId")}::text[],
                ${col("occurredAt")}::text[]::timestamptz[], ${col("receivedAt")}::text[]::timestamptz[],
                ${col("source")}::text[], ${col("payload")}::text[],
                ${col("outcome")}::text[], ${col("error")}::text[])
         as e(event_id, event_type, workspace_id, occurred_at, received_at, source, payload, outcome, error)
    on conflict (event_id) do update
      set outcome = excluded.outcome, error = excluded.error, recorded_at = excluded.recorded_at
      where events.outcome = 'poison'
    returning event_id`,
  );
};
