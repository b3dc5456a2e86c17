import { randomUUID } from "node:crypto";

/**
 * Seam events as Seam sends them (the fields @seamapi/types requires for each type), built in one
 * place for the scenarios of the projection tests and for the simulator's deletion webhooks.
 */

/** A Seam event as Seam sends it. */
export type SeamEventJson = Record<string, unknown> & {
  event_id: string;
  event_type: string;
  workspace_id: string;
  occurred_at: string;
};

/** The access system an ACS user or credential lives in; its events name both. */
export type AcsContext = { acs_system_id: string; connected_account_id: string };

/** A fresh access system: ids for an ACS system and the connected account it belongs to. */
export const createAcsContext = (): AcsContext => ({
  acs_system_id: randomUUID(),
  connected_account_id: randomUUID(),
});

/** The resources whose deletion Seam reports with an event. */
export type DeletableType =
  | "client_session"
  | "acs_credential"
  | "acs_user"
  | "enrollment_automation"
  | "phone";

/** Per resource type: the event that reports its deletion and the event field naming it. */
const DELETION_EVENTS = {
  client_session: { eventType: "client_session.deleted", idField: "client_session_id" },
  acs_credential: { eventType: "acs_credential.deleted", idField: "acs_credential_id" },
  acs_user: { eventType: "acs_user.deleted", idField: "acs_user_id" },
  enrollment_automation: {
    eventType: "enrollment_automation.deleted",
    idField: "enrollment_automation_id",
  },
  phone: { eventType: "phone.deactivated", idField: "device_id" },
} as const satisfies Record<DeletableType, { eventType: string; idField: string }>;

/** One event of `eventType` in `workspaceId`, created and occurred at `at`, with a fresh id. */
export const buildSeamEvent = (
  eventType: string,
  fields: Record<string, unknown>,
  context: { workspaceId: string; at: Date },
): SeamEventJson => {
  const at = context.at.toISOString();
  return {
    event_id: randomUUID(),
    workspace_id: context.workspaceId,
    created_at: at,
    occurred_at: at,
    event_type: eventType,
    ...fields,
  };
};

/** The event Seam sends once a resource is deleted (ACS ones name their access system too). */
export const buildDeletionEvent = (
  type: DeletableType,
  resourceId: string,
  context: { workspaceId: string; at: Date; acs: AcsContext },
): SeamEventJson => {
  const { eventType, idField } = DELETION_EVENTS[type];
  const acs = type === "acs_credential" || type === "acs_user" ? context.acs : {};
  return buildSeamEvent(eventType, { ...acs, [idField]: resourceId }, context);
};

/**
 * A deletion event on its own, as a test or the bench posts one: a fresh workspace and access
 * system, since no scenario surrounds it.
 */
export const buildLoneDeletionEvent = (
  type: DeletableType,
  resourceId: string,
  at: Date = new Date(),
): SeamEventJson =>
  buildDeletionEvent(type, resourceId, { workspaceId: randomUUID(), at, acs: createAcsContext() });
