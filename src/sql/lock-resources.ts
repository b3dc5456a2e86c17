import { sql } from "drizzle-orm";
import { jsonParam, runPrepared, type Tx } from "../db/client.js";
import type { resources } from "../db/schema.js";
import type { ResourceType } from "../shared/resources.js";

export type ResourceKey = { type: ResourceType; id: string };

/** A resource row as the projector reads it; `event_occurred_at` as text (ISO 8601). */
export type LockedResource = {
  resource_type: ResourceType;
  resource_id: string;
  user_identity_id: string | null;
  state: (typeof resources.$inferSelect)["state"];
  workspace_id: string | null;
  event_id: string | null;
  event_type: string | null;
  event_occurred_at: string | null;
};

/**
 * Locks every named resource row, creating an `unknown` placeholder for a resource never seen,
 * and returns their current state. Rows are locked in key order, as every writer of
 * `resources` does (see link-resources.ts), so concurrent transactions cannot deadlock.
 */
export const lockResources = (tx: Tx, keys: ResourceKey[]) =>
  runPrepared<LockedResource>(tx, lockResourcesStatement(keys));

/**
 * lockResources' statement, apart so a test can EXPLAIN exactly what runs. The keys go as one
 * `json` parameter, as the resource writes' do, so the statement keeps one generic plan instead
 * of being planned at every batch (db/client.ts, uuidArray).
 */
export const lockResourcesStatement = (keys: ResourceKey[]) => sql`
    insert into resources (resource_type, resource_id, state)
    select k.type, k.id, 'unknown'
    from json_to_recordset(${jsonParam(keys)}::json) as k(type text, id uuid)
    order by k.type, k.id
    on conflict (resource_type, resource_id) do update set resource_type = excluded.resource_type
    returning resource_type, resource_id, user_identity_id, state, workspace_id, event_id,
              event_type, event_occurred_at::text`;
