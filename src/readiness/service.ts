import type { Db } from "../db/client.js";
import { cancelDeletion, linkIdentityResources, requestDeletion } from "./deletion.js";
import type { ResourceLinks } from "./link.js";
import { readOneReadiness, readReadiness } from "./readiness.js";

/**
 * The readiness feature as the HTTP routes and the waiter registry use it: they get functions,
 * never the database handle.
 */
export const createReadinessService = (db: Db) => ({
  read: (identityIds: string[]) => readReadiness(db, identityIds),
  readOne: (identityId: string) => readOneReadiness(db, identityId),
  link: (identityId: string, links: ResourceLinks) => linkIdentityResources(db, identityId, links),
  requestDeletion: (identityId: string, links: ResourceLinks) =>
    requestDeletion(db, identityId, links),
  cancelDeletion: (identityId: string) => cancelDeletion(db, identityId),
});

export type ReadinessService = ReturnType<typeof createReadinessService>;
