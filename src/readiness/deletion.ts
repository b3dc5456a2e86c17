import { randomUUID } from "node:crypto";
import { type Db, pipeline, type Tx } from "../db/client.js";
import { type AdvanceOptions, advanceExecutions, type FollowUp } from "../execution/advance.js";
import type { Readiness } from "../shared/readiness.js";
import type { ExecutionStrategy } from "../shared/resources.js";
import { deletePendingDeletion } from "../sql/delete-pending-deletion.js";
import { insertPendingDeletion } from "../sql/insert-pending-deletion.js";
import { lockIdentities } from "../sql/lock-identities.js";
import { notifyReadiness } from "../sql/notify-readiness.js";
import { refreshDeletions } from "../sql/refresh-deletions.js";
import { insertExecution, resumeExecution } from "../sql/start-execution.js";
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
): Promise<boolean> => {
  await linkResources(tx, identityId, links);
  await lockIdentities(tx, [identityId]);
  const created = requestDeletion && (await insertPendingDeletion(tx, identityId)).length > 0;
  await refreshDeletions(tx, [identityId]);
  return created;
};

/** `PUT …/resources`: idempotent; a ready deletion goes back to pending if a blocker appears. */
export const linkIdentityResources = async (
  db: Db,
  identityId: string,
  links: ResourceLinks,
): Promise<Readiness> =>
  db.begin(async (tx) => {
    await linkAndRefresh(tx, identityId, links, false);
    return readOneReadiness(tx, identityId);
  });

/** `POST …/deletion`: `created` is false when a deletion was already requested. */
export const requestDeletion = (
  db: Db,
  identityId: string,
  links: ResourceLinks,
): Promise<{ created: boolean; readiness: Readiness }> =>
  db.begin(async (tx) => {
    const created = await linkAndRefresh(tx, identityId, links, true);
    return { created, readiness: await readOneReadiness(tx, identityId) };
  });

export type Executed = { created: boolean; readiness: Readiness; followUps: FollowUp[] };

/**
 * `POST …/deletion` with `"execute": true` and no execution yet: links what discovery found,
 * records the deletion, starts its execution and plans its first step, in one transaction.
 * What the plan leaves to do (its Seam calls) is returned, to be queued once this commits.
 */
export const startExecution = (
  db: Db,
  identityId: string,
  links: ResourceLinks,
  strategy: ExecutionStrategy,
  advance: AdvanceOptions,
): Promise<Executed> =>
  db.begin(async (tx) => {
    const created = await linkAndRefresh(tx, identityId, links, true);
    await insertExecution(tx, identityId, randomUUID(), strategy);
    const followUps = await advanceExecutions(tx, [identityId], advance);
    return { created, readiness: await readOneReadiness(tx, identityId), followUps };
  });

/**
 * `POST …/deletion` with `"execute": true` for a deletion that has an execution: a failed one
 * resumes from the step it failed in (under a new execution id); a running one is advanced
 * again, which re-queues its calls (a job already queued is not queued twice). Reads nothing
 * from Seam.
 */
export const continueExecution = (
  db: Db,
  identityId: string,
  advance: AdvanceOptions,
): Promise<Executed> =>
  db.begin(async (tx) => {
    // Sent together, the lock first: the resume runs after it on the connection, holding it.
    await pipeline([
      lockIdentities(tx, [identityId]),
      resumeExecution(tx, identityId, randomUUID()),
    ]);
    const followUps = await advanceExecutions(tx, [identityId], advance);
    return { created: false, readiness: await readOneReadiness(tx, identityId), followUps };
  });

/**
 * `DELETE …/deletion`: false when there was none. Its execution and calls go with it (foreign
 * keys), so a queued Seam call finds nothing to do. The NOTIFY (sent on commit) answers this
 * identity's waiters in every API process with `deletion: null`.
 */
export const cancelDeletion = (db: Db, identityId: string): Promise<boolean> =>
  db.begin(async (tx) => {
    await lockIdentities(tx, [identityId]);
    if ((await deletePendingDeletion(tx, identityId)).length === 0) return false;
    await notifyReadiness(tx, identityId);
    return true;
  });
