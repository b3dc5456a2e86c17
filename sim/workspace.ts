import { randomUUID } from "node:crypto";
import { buildDeletionEvent, createAcsContext, type SeamEventJson } from "./events.js";
import type { Random } from "./random.js";
import type { SimResource, SimResourceType } from "./resources.js";
import type { Scheduler } from "./scheduler.js";
import type { WebhookPoster } from "./webhooks.js";

/**
 * The simulated workspace's state: identities and what they own, and the life of a delete as
 * Seam runs it. A delete is accepted at once (the resource is `being_deleted`, still found by
 * `get`), completes after a random delay, and then its deletion event is logged (for
 * `/events/list`) and posted as a webhook.
 */

/** An identity's resources as Seam lists them. */
export type FakeIdentity = {
  acs_user_ids: string[];
  acs_credential_ids: string[];
  phone_ids: string[];
  client_session_ids: string[];
  enrollment_automation_ids: string[];
};

export type SeedOptions = {
  acsUsers?: number;
  credentialsPerUser?: number;
  phones?: number;
  clientSessions?: number;
  enrollmentAutomations?: number;
};

export type WorkspaceOptions = {
  /** How long a delete takes to complete, drawn uniformly in [min, max]. */
  deleteDelayMs?: [number, number];
  /** Share of completed deletes whose webhook is never posted. */
  dropRate?: number;
  /** `/acs/users/delete` refuses while the user has live credentials (default true). */
  refuseAcsUserDeleteWithCredentials?: boolean;
  /**
   * `/user_identities/delete` deletes everything linked to the identity, as Seam's current docs
   * say (default false: it refuses while the identity has ACS users or credentials, as the
   * older guide says).
   */
  cascade?: boolean;
};

/** A Seam error answer: status and the `error` object Seam sends. */
export type SeamFailure = { status: number; type: string; message: string };

const NAMES: Record<SimResourceType, string> = {
  user_identity: "User identity",
  acs_user: "ACS user",
  acs_credential: "ACS credential",
  enrollment_automation: "Enrollment automation",
  phone: "Phone",
  client_session: "Client session",
};

/** A resource Seam cannot find: `<type>_not_found`, as Seam names it (a phone is a device). */
export const notFound = (type: SimResourceType): SeamFailure => ({
  status: 404,
  type: type === "phone" ? "device_not_found" : `${type}_not_found`,
  message: `${NAMES[type]} not found`,
});

/** What `/user_identities/delete` removes with the identity when it cascades, in this order. */
const LINKED: SimResourceType[] = [
  "client_session",
  "acs_credential",
  "acs_user",
  "enrollment_automation",
  "phone",
];

export const createWorkspace = (
  options: WorkspaceOptions,
  deps: {
    random: Random;
    scheduler: Scheduler;
    webhooks: WebhookPoster;
    log: (line: string) => void;
  },
) => {
  const workspaceId = randomUUID();
  const acs = createAcsContext();
  const [minDelay, maxDelay] = options.deleteDelayMs ?? [20, 200];
  const resources = new Map<string, SimResource>();
  const deleteCallCounts = new Map<string, number>();
  const dropped = new Set<string>();
  const stuck = new Set<string>();
  /** The workspace's event log: what a test seeded, then every completed deletion. */
  let events: Record<string, unknown>[] = [];

  const key = (type: SimResourceType, id: string) => `${type}:${id}`;
  const put = (
    type: SimResourceType,
    id: string,
    owner: { userIdentityId?: string | undefined; acsUserId?: string | undefined } = {},
  ) => {
    const resource: SimResource = {
      type,
      id,
      userIdentityId: owner.userIdentityId,
      acsUserId: owner.acsUserId,
      createdAt: new Date().toISOString(),
      state: "live",
      deletedAt: undefined,
    };
    resources.set(key(type, id), resource);
    return resource;
  };

  /** A resource Seam still shows (live, or being deleted); undefined once deleted or unknown. */
  const find = (type: SimResourceType, id: unknown): SimResource | undefined => {
    const resource = typeof id === "string" ? resources.get(key(type, id)) : undefined;
    return resource?.state === "deleted" ? undefined : resource;
  };

  /** The resources Seam shows of `type` that pass `where`, in creation order. */
  const list = (type: SimResourceType, where: (resource: SimResource) => boolean) =>
    [...resources.values()].filter(
      (resource) => resource.type === type && resource.state !== "deleted" && where(resource),
    );

  const ownedBy = (type: SimResourceType, userIdentityId: string) =>
    list(type, (resource) => resource.userIdentityId === userIdentityId);

  const complete = (resource: SimResource) => {
    resource.state = "deleted";
    resource.deletedAt = new Date();
    deps.log(`deleted ${resource.type} ${resource.id}`);
    if (resource.type === "user_identity") return; // no deletion event in the pinned types
    const event: SeamEventJson = buildDeletionEvent(resource.type, resource.id, {
      workspaceId,
      at: resource.deletedAt,
      acs,
    });
    events.push(event);
    if (dropped.has(resource.id) || deps.random.chance(options.dropRate ?? 0)) {
      deps.log(`webhook ${event.event_type} ${resource.id}: dropped`);
      return;
    }
    deps.webhooks.send(event, resource.id);
  };

  const startDeleting = (resource: SimResource) => {
    if (resource.state !== "live") return; // accepted before: one completion
    resource.state = "being_deleted";
    if (stuck.has(resource.id)) return;
    deps.scheduler.after(deps.random.between(minDelay, maxDelay), () => complete(resource));
  };

  /** What a delete route does with `id`: undefined when accepted, else Seam's refusal. */
  const requestDelete = (type: SimResourceType, id: unknown): SeamFailure | undefined => {
    if (typeof id === "string") deleteCallCounts.set(id, (deleteCallCounts.get(id) ?? 0) + 1);
    const resource = find(type, id);
    if (resource === undefined) return notFound(type);
    if (
      type === "acs_user" &&
      (options.refuseAcsUserDeleteWithCredentials ?? true) &&
      list("acs_credential", (credential) => credential.acsUserId === resource.id).length > 0
    ) {
      return {
        status: 400,
        type: "acs_user_has_acs_credentials",
        message: "Cannot delete an ACS user that still has credentials: delete them first",
      };
    }
    if (type === "user_identity") {
      const linked = LINKED.flatMap((linkedType) => ownedBy(linkedType, resource.id));
      if (!options.cascade) {
        if (linked.some((item) => item.type === "acs_user" || item.type === "acs_credential")) {
          return {
            status: 400,
            type: "user_identity_has_acs_resources",
            message:
              "Cannot delete a user identity that still has ACS users or credentials: delete them first",
          };
        }
      } else {
        for (const item of linked) startDeleting(item);
      }
    }
    startDeleting(resource);
    return undefined;
  };

  const addIdentity = (userIdentityId: string, footprint: FakeIdentity) => {
    const owner = { userIdentityId };
    put("user_identity", userIdentityId, owner);
    for (const id of footprint.acs_user_ids) put("acs_user", id, owner);
    // Each credential belongs to one of the identity's ACS users, in turn.
    footprint.acs_credential_ids.forEach((id, index) => {
      const acsUserId = footprint.acs_user_ids[index % footprint.acs_user_ids.length];
      put("acs_credential", id, { userIdentityId, acsUserId });
    });
    for (const id of footprint.phone_ids) put("phone", id, owner);
    for (const id of footprint.client_session_ids) put("client_session", id, owner);
    for (const id of footprint.enrollment_automation_ids) put("enrollment_automation", id, owner);
  };

  const seedIdentity = (seed: SeedOptions = {}): FakeIdentity & { user_identity_id: string } => {
    const ids = (count: number) => Array.from({ length: count }, () => randomUUID());
    const acsUserIds = ids(seed.acsUsers ?? 1);
    const footprint: FakeIdentity = {
      acs_user_ids: acsUserIds,
      // Grouped by user so addIdentity's in-turn assignment gives each user its own run.
      acs_credential_ids: ids(acsUserIds.length * (seed.credentialsPerUser ?? 2)),
      phone_ids: ids(seed.phones ?? 1),
      client_session_ids: ids(seed.clientSessions ?? 1),
      enrollment_automation_ids: ids(seed.enrollmentAutomations ?? 1),
    };
    const userIdentityId = randomUUID();
    addIdentity(userIdentityId, footprint);
    return { user_identity_id: userIdentityId, ...footprint };
  };

  return {
    workspaceId,
    acs,
    find,
    list,
    ownedBy,
    requestDelete,
    addIdentity,
    seedIdentity,
    addAcsUser: (acsUserId: string, userIdentityId?: string) =>
      put("acs_user", acsUserId, { userIdentityId }),
    addCredential: (
      credentialId: string,
      owner: { acs_user_id?: string; user_identity_id?: string },
    ) =>
      put("acs_credential", credentialId, {
        acsUserId: owner.acs_user_id,
        userIdentityId: owner.user_identity_id,
      }),
    events: () => events,
    setEvents: (next: Record<string, unknown>[]) => {
      events = next;
    },
    /** Seam still shows the resource (live or being deleted). */
    exists: (type: SimResourceType, id: string) => find(type, id) !== undefined,
    /** When its delete completed; undefined while it is not deleted. */
    deletedAt: (type: SimResourceType, id: string) => resources.get(key(type, id))?.deletedAt,
    /** Delete calls naming `id`, whatever they answered (a scripted route fault answers first: not counted). */
    deleteCalls: (id: string) => deleteCallCounts.get(id) ?? 0,
    /** The resource's delete completes, but its webhook is never posted. */
    drop: (resourceId: string) => {
      dropped.add(resourceId);
    },
    /** Its delete answers 200, and the resource never goes away. */
    stuck: (resourceId: string) => {
      stuck.add(resourceId);
    },
  };
};

export type Workspace = ReturnType<typeof createWorkspace>;
