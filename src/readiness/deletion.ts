import type { Db, Tx } from "../db/client.js";
import type { Readiness } from "../shared/readiness.js";
import { deletePendingDeletion } from "../sql/delete-pending-deletion.js";
import { insertPendingDeletion } from "../sql/insert-pending-deletion.js";
import { lockIdentities } from "../sql/lock-identities.js";
import { notifyReadiness } from "../sql/notify-readiness.js";
import { refreshDeletions } from "../sql/refresh-deletions.js";
import { linkResources, type ResourceLinks } from "./link.js";
import { readOneReadiness } from "./readiness.js";

/**
 * Links resources and, when asked, records a pending deletion, then brings the deletion up to
 * date with the blockers and reads the answer, all in one transaction.
 *
 * Why this closes the race with the identity's last deletion event: both this and the projector
 * (projector/apply.ts) take the identity's advisory lock (sql/lock-identities.ts) before they
 * read blockers, and READ COMMITTED gives every statement after the lock a fresh snapshot. If
 * the projector commits first, refreshDeletions here sees the resource deleted; if this commits
 * first, the projector's refreshDeletions sees the pending row. Either way the one that commits
 * second makes the deletion ready.
 */
const linkAndRefresh = async (
  tx: Tx,
  identityId: string,
  links: ResourceLinks,
  requestDeletion: boolean,
): Promise<{ created: boolean; readiness: Readiness }> => {
  await linkResources(tx, identityId, links);
  await lockIdentities(tx, [identityId]);
  const created = requestDeletion && (await insertPendingDeletion(tx, identityId)).length > 0;
  await refreshDeletions(tx, [identityId]);
  return { created, readiness: await readOneReadiness(tx, identityId) };
};

/** `PUT …/resources`: idempotent; a ready deletion goes back to pending if a blocker appears. */
export const linkIdentityResources = async (
  db: Db,
  identityId: string,
  links: ResourceLinks,
): Promise<Readiness> =>
  (await db.begin((tx) => linkAndRefresh(tx, identityId, links, false))).readiness;

/** `POST …/deletion`: `created` is false when a deletion was already requested. */
export const requestDeletion = (
  db: Db,
  identityId: string,
  links: ResourceLinks,
): Promise<{ created: boolean; readiness: Readiness }> =>
  db.begin((tx) => linkAndRefresh(tx, identityId, links, true));

/**
 * `DELETE …/deletion`: false when there was none. The NOTIFY (sent on commit) answers this
 * identity's waiters in every API process with `deletion: null`.
 */
export const cancelDeletion = (db: Db, identityId: string): Promise<boolean> =>
  db.begin(async (tx) => {
    await lockIdentities(tx, [identityId]);
    if ((await deletePendingDeletion(tx, identityId)).length === 0) return false;
    await notifyReadiness(tx, identityId);
    return true;
  });
