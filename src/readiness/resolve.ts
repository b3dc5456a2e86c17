import { type SQL, sql } from "drizzle-orm";
import { arrayParam, type Tx } from "../db/client.js";

/** The Postgres channel on which a user identity's id is sent when its readiness changes. */
export const READINESS_CHANNEL = "seam_projector_readiness";

/** First key of the two-key advisory lock that serialises work on one user identity. */
const IDENTITY_LOCK_CLASS = 7313;

/**
 * Takes a transaction-scoped advisory lock per identity, in sorted order so two transactions
 * never wait on each other in a cycle.
 *
 * Why: a deletion request and the identity's last deletion event can commit at the same instant.
 * Under READ COMMITTED each would read the other's change as not yet there, and the deletion
 * would stay pending for ever. Holding this lock while either one reads and writes the
 * identity's state makes the one that commits second see the first (every statement after the
 * lock takes a fresh snapshot). Row locks on `resources` are always taken before this lock, by
 * the projector and by links alike, so the lock order is the same everywhere.
 */
export const lockIdentities = async (tx: Tx, identityIds: string[]): Promise<void> => {
  if (identityIds.length === 0) return;
  await tx.execute(lockIdentitiesQuery(identityIds));
};

/** The statement of lockIdentities, for a caller that runs it on a connection of its own. */
export const lockIdentitiesQuery = (identityIds: string[]): SQL => {
  const sorted = [...new Set(identityIds)].sort();
  return sql`
    select pg_advisory_xact_lock(${IDENTITY_LOCK_CLASS}, hashtext(s.id::text))
    from (select id from unnest(${arrayParam(sorted)}::uuid[]) as t(id) order by id) as s`;
};

/**
 * Brings the pending deletions of these identities up to date with their blockers (ready when
 * none is left, back to pending when one appears) and notifies their waiters. Call it, holding
 * lockIdentities, after changing what blocks them; NOTIFY is delivered on commit, so a woken
 * waiter reads committed state.
 */
export const refreshDeletions = async (tx: Tx, identityIds: string[]): Promise<void> => {
  if (identityIds.length === 0) return;
  await tx.execute(refreshDeletionsQuery(identityIds));
};

/** The statement of refreshDeletions, for a caller that runs it on a connection of its own. */
export const refreshDeletionsQuery = (identityIds: string[]): SQL => sql`
    with current_blocking as (
      select d.user_identity_id,
             exists (select 1 from resources r
                     where r.user_identity_id = d.user_identity_id and r.state <> 'deleted') as blocked
      from pending_deletions d
      where d.user_identity_id = any(${arrayParam(identityIds)}::uuid[])
    ), refreshed as (
      update pending_deletions p
      set status = case when b.blocked then 'pending' else 'ready' end,
          ready_at = case when b.blocked then null else coalesce(p.ready_at, now()) end
      from current_blocking b
      where p.user_identity_id = b.user_identity_id
      returning p.user_identity_id
    )
    select pg_notify(${READINESS_CHANNEL}, user_identity_id::text) from refreshed`;

/** Notifies waiters of one identity without touching its state (a cancelled deletion). */
export const notifyReadiness = async (tx: Tx, identityId: string): Promise<void> => {
  await tx.execute(sql`select pg_notify(${READINESS_CHANNEL}, ${identityId})`);
};
