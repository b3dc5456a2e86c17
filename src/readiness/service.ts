import type { Db } from "../db/client.js";
import { AppError } from "../errors.js";
import { cancelDeletion, linkIdentityResources, requestDeletion } from "./deletion.js";
import { type LinkField, type ResourceLinks, withLinks } from "./link.js";
import { readOneReadiness, readReadiness } from "./readiness.js";

/** A request's lists, and whether to add what the Seam API lists for the identity. */
export type LinkRequest = ResourceLinks & { discover?: boolean | undefined };

export type ReadinessOptions = {
  /** The identity's resources as the Seam API lists them; absent without SEAM_API_KEY. */
  discover?: (identityId: string) => Promise<Record<LinkField, string[]>>;
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
  return {
    read: (identityIds: string[]) => readReadiness(db, identityIds),
    readOne: (identityId: string) => readOneReadiness(db, identityId),
    link: async (identityId: string, request: LinkRequest) =>
      linkIdentityResources(db, identityId, await resolveLinks(identityId, request)),
    requestDeletion: async (identityId: string, request: LinkRequest) =>
      requestDeletion(db, identityId, await resolveLinks(identityId, request)),
    cancelDeletion: (identityId: string) => cancelDeletion(db, identityId),
  };
};

export type ReadinessService = ReturnType<typeof createReadinessService>;
