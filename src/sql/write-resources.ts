import { sql } from "drizzle-orm";
import { jsonParam, runPrepared, type Tx } from "../db/client.js";
import type { LockedResource, ResourceKey } from "./lock-resources.js";

/** A resource's new state; `occurredAt` in epoch milliseconds, the order key of evolve(). */
export type ResourceWrite = ResourceKey & {
  state: LockedResource["state"];
  workspaceId: string | null;
  eventId: string | null;
  eventType: string | null;
  occurredAt: number | null;
};

/**
 * Writes resources' new states, rows that lockResources holds in the same transaction. An
 * upsert whose every row conflicts, not an `update … from unnest(…)`: ON CONFLICT finds each
 * row through the primary key whatever the statistics say, where the update's join was planned
 * as a scan of the whole table while they were stale (a table filled since its last ANALYZE),
 * which made each batch's write grow with the table.
 */
export const writeResources = (tx: Tx, rows: ResourceWrite[]) =>
  runPrepared(tx, writeResourcesStatement(rows));

/**
 * writeResources' statement, apart so a test can EXPLAIN exactly what runs. The rows go as one
 * `json` parameter, as the event record's do (record-events.ts), `occurredAt` as epoch
 * milliseconds, turned into a timestamp in SQL.
 */
export const writeResourcesStatement = (rows: ResourceWrite[]) => sql`
    insert into resources as r (resource_type, resource_id, state, workspace_id, event_id,
                                event_type, event_occurred_at)
    select w.type, w.id, w.state, w."workspaceId", w."eventId", w."eventType",
           timestamptz 'epoch' + w."occurredAt" * interval '1 millisecond'
    from json_to_recordset(${jsonParam(rows)}::json)
      as w(type text, id uuid, state text, "workspaceId" text, "eventId" text, "eventType" text,
           "occurredAt" bigint)
    on conflict (resource_type, resource_id) do update
      set state = excluded.state, workspace_id = excluded.workspace_id,
          event_id = excluded.event_id, event_type = excluded.event_type,
          event_occurred_at = excluded.event_occurred_at, updated_at = now()`;
