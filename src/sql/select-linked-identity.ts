import { sql } from "drizzle-orm";
import { type Db, runPrepared } from "../db/client.js";
import type { ResourceKey } from "./lock-resources.js";

/** The identity a resource is linked to: no row for a resource never heard of. */
export const selectLinkedIdentity = (db: Db, key: ResourceKey) =>
  runPrepared<{ user_identity_id: string | null }>(
    db,
    sql`
    select user_identity_id::text from resources
    where resource_type = ${key.type} and resource_id = ${key.id}::uuid`,
  );
