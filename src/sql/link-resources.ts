import { sql } from "drizzle-orm";
import { arrayParam, runPrepared, type Tx } from "../db/client.js";
import type { LockedResource, ResourceKey } from "./lock-resources.js";

/**
 * Links resources to an identity, creating `unknown` rows for resources never seen, and returns
 * each row's identity after the statement: a row linked to another identity keeps that one (the
 * caller tells the conflict). A deleted resource is linked too, and stays deleted.
 *
 * The upsert locks each row in key order, as lockResources does, and runs before the identity
 * lock (lock-identities.ts) in every transaction, so no two transactions wait in a cycle.
 */
export const linkResources = (tx: Tx, identityId: string, keys: ResourceKey[]) =>
  runPrepared<Pick<LockedResource, "resource_type" | "resource_id"> & { user_identity_id: string }>(
    tx,
    sql`
    insert into resources (resource_type, resource_id, state, user_identity_id, linked_at)
    select k.resource_type, k.resource_id, 'unknown', ${identityId}::uuid, now()
    from unnest(${arrayParam(keys.map((k) => k.type))}::text[], ${arrayParam(keys.map((k) => k.id))}::uuid[])
         as k(resource_type, resource_id)
    order by k.resource_type, k.resource_id
    on conflict (resource_type, resource_id) do update
      set user_identity_id = coalesce(resources.user_identity_id, excluded.user_identity_id),
          linked_at = case when resources.user_identity_id is null then excluded.linked_at
                           else resources.linked_at end
    returning resource_type, resource_id, user_identity_id::text`,
  );
