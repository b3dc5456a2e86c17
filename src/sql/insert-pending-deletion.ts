import { sql } from "drizzle-orm";
import { runPrepared, type Tx } from "../db/client.js";

/** Records a pending deletion of the identity; returns no row when one was requested already. */
export const insertPendingDeletion = (tx: Tx, identityId: string) =>
  runPrepared<{ user_identity_id: string }>(
    tx,
    sql`
    insert into pending_deletions (user_identity_id, status) values (${identityId}::uuid, 'pending')
    on conflict (user_identity_id) do nothing
    returning user_identity_id`,
  );
