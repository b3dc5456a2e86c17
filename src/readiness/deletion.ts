import { sql } from "drizzle-orm";
import type { Db, Tx } from "../db/client.js";
import type { Readiness } from "../shared/readiness.js";
import { linkResources, type ResourceLinks } from "./link.js";
import { readOneReadiness } from "./readiness.js";
import { lockIdentities, notifyReadiness, refreshDeletions } from "./resolve.js";

/**
 * Links resources and, when asked, records a pending deletion, then brings the deletion up to
 * date with the blockers and reads the answer, all in one transaction.
 *
 * Why this closes the race with the identity's last deletion event: both this and the projector
 * take the identity's advisory lock before they read blockers, and READ COMMITTED gives every
 * statement after the lock a fresh snapshot. If the projector commits first, refreshDeletions
 * here sees the resource deleted; if this commits first, the projector's refreshDeletions sees
 * the pending row. Either way the one that commits second makes the deletion ready.
 */
const linkAndRefresh = async (
  tx: Tx,
  identityId: string,
  links: ResourceLinks,
  requestDeletion: boolean,
): Promise<{ created: boolean; readiness: Readiness }> => {
  await linkResources(tx, identityId, links);
  await lockIdentities(tx, [identityId]);
  let created = false;
  if (requestDeletion) {
    const inserted = await tx.execute(sql`
      insert into pending_deletions (user_identity_id, status) values (${identityId}::uuid, 'pending')
      on conflict (user_identity_id) do nothing
      returning user_identity_id`);
    created = inserted.length > 0;
  }
  await refreshDeletions(tx, [identityId]);
  return { created, readiness: await readOneReadiness(tx, identityId) };
};

/** `PUT …/resources`: idempotent; a ready deletion goes back to pending if a blocker appears. */
export const linkIdentityResources = async (
  db: Db,
  identityId: string,
  links: ResourceLinks,
): Promise<Readiness> =>
  (await db.transaction((tx) => linkAndRefresh(tx, identityId, links, false))).readiness;

/** `POST …/deletion`: `created` is false when a deletion was already requested. */
export const requestDeletion = (
  db: Db,
  identityId: string,
  links: ResourceLinks,
): Promise<{ created: boolean; readiness: Readiness }> =>
  db.transaction((tx) => linkAndRefresh(tx, identityId, links, true));

/**
 * `DELETE …/deletion`: false when there was none. The NOTIFY (sent on commit) answers this
 * identity's waiters in every API process with `deletion: null`.
 */
export const cancelDeletion = (db: Db, identityId: string): Promise<boolean> =>
  db.transaction(async (tx) => {
    await lockIdentities(tx, [identityId]);
    const deleted = await tx.execute(sql`
      delete from pending_deletions where user_identity_id = ${identityId}::uuid
      returning user_identity_id`);
    if (deleted.length === 0) return false;
    await notifyReadiness(tx, identityId);
    return true;
  });
