import { type SQL, sql } from "drizzle-orm";
import { runPrepared, type Tx, uuidArray } from "../db/client.js";
import { READINESS_CHANNEL } from "./notify-readiness.js";

/**
 * Brings the pending deletions of these identities up to date with their blockers (ready when
 * none is left, back to pending when one appears) and notifies their waiters. Run it holding
 * lockIdentities, after changing what blocks them; NOTIFY is delivered on commit, so a woken
 * waiter reads committed state.
 */
export const refreshDeletions = (tx: Tx, identityIds: string[]) =>
  runPrepared(tx, refreshDeletionsStatement(identityIds));

/** refreshDeletions' statement, apart so a test can EXPLAIN exactly what runs. */
export const refreshDeletionsStatement = (identityIds: string[]) =>
  refreshDeletionsOf(uuidArray(identityIds));

/**
 * The refresh of the identities that `ids`, a `uuid[]` expression, names. Apart so the plan
 * test's control can plan it with another form of the list (projector/plans.int.test.ts).
 */
export const refreshDeletionsOf = (ids: SQL) => sql`
    with current_blocking as (
      select d.user_identity_id,
             exists (select 1 from resources r
                     where r.user_identity_id = d.user_identity_id and r.state <> 'deleted') as blocked
      from pending_deletions d
      where d.user_identity_id = any(${ids})
    ), refreshed as (
      update pending_deletions p
      set status = case when b.blocked then 'pending' else 'ready' end,
          ready_at = case when b.blocked then null else coalesce(p.ready_at, now()) end
      from current_blocking b
      where p.user_identity_id = b.user_identity_id
      returning p.user_identity_id
    )
    select pg_notify(${READINESS_CHANNEL}, user_identity_id::text) from refreshed`;
