import { sql } from "drizzle-orm";
import { runPrepared, type Tx } from "../db/client.js";

/** Removes the identity's deletion request; returns no row when there was none. */
export const deletePendingDeletion = (tx: Tx, identityId: string) =>
  runPrepared<{ user_identity_id: string }>(
    tx,
    sql`
    delete from pending_deletions where user_identity_id = ${identityId}::uuid
    returning user_identity_id`,
  );
