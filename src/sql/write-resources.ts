import { sql } from "drizzle-orm";
import { arrayParam, runPrepared, type Tx } from "../db/client.js";
import type { LockedResource, ResourceKey } from "./lock-resources.js";

/** A resource's new state; `occurredAt` in epoch milliseconds, the order key of evolve(). */
export type ResourceWrite = ResourceKey & {
  state: LockedResource["state"];
  workspaceId: string | null;
  eventId: string | null;
  eventType: string | null;
  occurredAt: number | null;
};

/** Writes resources' new states, rows that lockResources holds in the same transaction. */
export const writeResources = (tx: Tx, rows: ResourceWrite[]) => {
  const col = <K extends keyof ResourceWrite>(key: K) => arrayParam(rows.map((row) => row[key]));
  const occurredAt = rows.map((row) =>
    row.occurredAt === null ? null : new Date(row.occurredAt).toISOString(),
  );
  return runPrepared(
    tx,
    sql`
    update resources r
    set state = u.state, workspace_id = u.workspace_id, event_id = u.event_id,
        event_type = u.event_type, event_occurred_at = u.event_occurred_at, updated_at = now()
    from unnest(${col("type")}::text[], ${col("id")}::uuid[], ${col("state")}::text[],
                ${col("workspaceId")}::text[], ${col("eventId")}::text[], ${col("eventType")}::text[],
                ${arrayParam(occurredAt)}::text[]::timestamptz[])
         as u(resource_type, resource_id, state, workspace_id, event_id, event_type, event_occurred_at)
    where r.resource_type = u.resource_type and r.resource_id = u.resource_id`,
  );
};
