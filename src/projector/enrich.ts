import type { Db } from "../db/client.js";
import { AppError, toError } from "../errors.js";
import type { Logger } from "../log.js";
import { linkIdentityResources } from "../readiness/deletion.js";
import type { SeamApi } from "../seam/api.js";
import { selectLinkedIdentity } from "../sql/select-linked-identity.js";
import { type ResourceChange, ruleFor } from "./evolve.js";

/**
 * Enrichment: events carry no user identity, but the Seam API knows whose ACS user or
 * credential it is. After the event that reports a new ACS user or credential (its rule
 * `creates`: `acs_user.created`, `acs_credential.issued`) has been projected (committed), for a
 * resource not linked yet, ask Seam for its owner and link it, through the same link path as
 * `PUT …/resources` (so the 409 rule holds and a pending deletion is refreshed).
 *
 * Best effort, never in the projection's way: the worker hands over the change and moves on;
 * the work runs here, later, a few calls at a time, and a queue that is full drops new work (a
 * deletion request or discovery can still link it). A failure is logged, never thrown.
 */

type Work = { type: "acs_user" | "acs_credential"; id: string };

export type EnricherOptions = {
  api: SeamApi;
  db: Db;
  log: Logger;
  /** Seam calls in flight at once. */
  concurrency?: number;
  /** Resources waiting beyond those in flight; more are dropped (and logged). */
  maxPending?: number;
};

/** Pure: the resource a projected change asks to enrich, if any. */
const enrichmentFor = (change: ResourceChange): Work | undefined =>
  (change.type === "acs_user" || change.type === "acs_credential") &&
  ruleFor(change.eventType)?.creates === true
    ? { type: change.type, id: change.id }
    : undefined;

const linkedIdentity = async (db: Db, type: Work["type"], id: string) => {
  const [row] = await selectLinkedIdentity(db, { type, id });
  return row?.user_identity_id ?? undefined;
};

export const createEnricher = (options: EnricherOptions) => {
  const { api, db, log } = options;
  const concurrency = options.concurrency ?? 4;
  const maxPending = options.maxPending ?? 1000;
  const pending = new Map<string, Work>();
  const running = new Set<Promise<void>>();
  let closed = false;
  let dropped = 0;

  /** The identity that owns the resource in Seam, and what to link to it. */
  const ownerOf = async (
    work: Work,
  ): Promise<{ identityId: string; acsUserIds: string[] } | undefined> => {
    if (work.type === "acs_user") {
      const identityId = await api.getAcsUserIdentity(work.id);
      return identityId === undefined ? undefined : { identityId, acsUserIds: [] };
    }
    const owner = await api.getCredentialOwner(work.id);
    if (owner.acsUserId === undefined) {
      const identityId = owner.userIdentityId;
      return identityId === undefined ? undefined : { identityId, acsUserIds: [] };
    }
    // A credential belongs to its ACS user's identity: ours if linked, else Seam's.
    const identityId =
      owner.userIdentityId ??
      (await linkedIdentity(db, "acs_user", owner.acsUserId)) ??
      (await api.getAcsUserIdentity(owner.acsUserId));
    return identityId === undefined ? undefined : { identityId, acsUserIds: [owner.acsUserId] };
  };

  const enrich = async (work: Work) => {
    if ((await linkedIdentity(db, work.type, work.id)) !== undefined) return;
    const owner = await ownerOf(work);
    if (owner === undefined) {
      log.debug(work, "seam: resource has no user identity, not linked");
      return;
    }
    await linkIdentityResources(db, owner.identityId, {
      ...(work.type === "acs_user"
        ? { acs_user_ids: [work.id] }
        : { acs_credential_ids: [work.id], acs_user_ids: owner.acsUserIds }),
    });
    log.info({ ...work, userIdentityId: owner.identityId }, "seam: linked by enrichment");
  };

  const pump = () => {
    while (!closed && running.size < concurrency && pending.size > 0) {
      const [key, work] = pending.entries().next().value as [string, Work];
      pending.delete(key);
      const task = enrich(work)
        .catch((error: unknown) => {
          const code = error instanceof AppError ? error.code : undefined;
          // A conflict is another identity's resource; not_found, one deleted meanwhile.
          const level = code === "conflict" || code === "not_found" ? "info" : "warn";
          log[level]({ ...work, code, err: toError(error) }, "seam: enrichment skipped");
        })
        .finally(() => {
          running.delete(task);
          pump();
        });
      running.add(task);
    }
  };

  return {
    /** Hands over a change the projector has committed; returns at once. */
    onProjected: (change: ResourceChange) => {
      if (closed) return;
      const work = enrichmentFor(change);
      if (work === undefined) return;
      const key = `${work.type}/${work.id}`;
      if (pending.size >= maxPending && !pending.has(key)) {
        dropped += 1;
        if (dropped === 1 || dropped % 1000 === 0) {
          log.warn({ dropped, maxPending }, "seam: enrichment queue full, dropping");
        }
        return;
      }
      pending.set(key, work);
      pump();
    },
    /** True when nothing waits and nothing runs (for tests). */
    get idle() {
      return pending.size === 0 && running.size === 0;
    },
    /**
     * Drops what waits and gives the calls in flight `graceMs` to end: a slow Seam must not
     * hold a shutdown, and a link that did not happen is only a link not learned yet.
     */
    close: async (graceMs = 2000) => {
      closed = true;
      pending.clear();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
};
