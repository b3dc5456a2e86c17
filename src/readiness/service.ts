import type { Db } from "../db/client.js";
import { AppError } from "../errors.js";
import type { ExecutionHooks } from "../execution/advance.js";
import type { ExecutionStrategy } from "../shared/resources.js";
import {
  cancelDeletion,
  continueExecution,
  type Executed,
  linkIdentityResources,
  requestDeletion,
  startExecution,
} from "./deletion.js";
import { readDeletionHistory } from "./history.js";
import { type LinkField, type ResourceLinks, withLinks } from "./link.js";
import { listDeletions } from "./list.js";
import { readOneReadiness, readReadiness } from "./readiness.js";

/** A request's lists, and whether to add what the Seam API lists for the identity. */
export type LinkRequest = ResourceLinks & { discover?: boolean | undefined };

/** A deletion request's body: with `execute`, the service carries it out in Seam. */
export type DeletionRequest = LinkRequest & {
  execute?: boolean | undefined;
  strategy?: ExecutionStrategy | undefined;
};

export type ReadinessOptions = {
  /** The identity's resources as the Seam API lists them; absent without SEAM_API_KEY. */
  discover?: (identityId: string) => Promise<Record<LinkField, string[]>>;
  /** Executions (CONTRACT §8); absent without SEAM_API_KEY. */
  execution?: ExecutionHooks;
};

/**
 * The readiness feature as the HTTP routes and the waiter registry use it: they get functions,
 * never the database handle.
 */
export const createReadinessService = (db: Db, options: ReadinessOptions = {}) => {
  // Discovery calls Seam before the transaction opens, so a slow Seam holds no row or lock
  // (and no waiter: those only read). Its ids then take the same link path as the request's,
  // so a resource linked to another identity is the same 409, and nothing is linked.
  const resolveLinks = async (identityId: string, request: LinkRequest) => {
    const { discover, ...links } = request;
    if (discover !== true) return links;
    if (options.discover === undefined) {
      throw new AppError(
        "invalid_request",
        "discover needs the Seam API, and this service has no SEAM_API_KEY",
        "discover",
      );
    }
    return withLinks(links, await options.discover(identityId));
  };
  const execute = async (identityId: string, request: DeletionRequest) => {
    const { execute: _, strategy, ...links } = request;
    const execution = options.execution;
    if (execution === undefined) {
      throw new AppError(
        "invalid_request",
        "execute needs the Seam API, and this service has no SEAM_API_KEY",
        "execute",
      );
    }
    const readiness = await readOneReadiness(db, identityId);
    const current = readiness.deletion?.execution;
    // Completed: nothing to do, nothing read from Seam, and what was just read is the answer.
    // Running or failed: continue, reading nothing from Seam. None: discover, then start.
    if (current?.status === "completed") return { created: false, readiness };
    const executed: Executed =
      current === null || current === undefined
        ? await startExecution(
            db,
            identityId,
            await resolveLinks(identityId, { ...links, discover: true }),
            strategy ?? "stepwise",
            execution.advance,
          )
        : await continueExecution(db, identityId, execution.advance);
    try {
      await execution.onFollowUps(executed.followUps);
    } catch (error) {
      throw new AppError(
        "service_unavailable",
        "the execution is recorded, but its Seam calls could not be queued (Redis): post again to queue them",
        undefined,
        { cause: error },
      );
    }
    return { created: executed.created, readiness: executed.readiness };
  };
  return {
    /** Whether `"execute": true` is served (SEAM_API_KEY is set). */
    executes: options.execution !== undefined,
    list: (query: Parameters<typeof listDeletions>[1]) => listDeletions(db, query),
    history: (identityId: string) => readDeletionHistory(db, identityId),
    read: (identityIds: string[]) => readReadiness(db, identityIds),
    readOne: (identityId: string) => readOneReadiness(db, identityId),
    link: async (identityId: string, request: LinkRequest) =>
      linkIdentityResources(db, identityId, await resolveLinks(identityId, request)),
    requestDeletion: async (identityId: string, request: DeletionRequest) =>
      request.execute === true
        ? execute(identityId, request)
        : requestDeletion(db, identityId, await resolveLinks(identityId, request)),
    cancelDeletion: (identityId: string) => cancelDeletion(db, identityId),
  };
};

export type ReadinessService = ReturnType<typeof createReadinessService>;
