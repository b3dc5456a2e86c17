import type { ResourceType } from "../shared/resources.js";

/**
 * The projection rules (docs/architecture.md), pure: which events are projected, onto which resource,
 * and how a resource's state follows from its events. Every other verified event is stored and
 * not projected. The projector (classify.ts, apply.ts) and Seam enrichment read this one table.
 */

/** What one event type says about the resource it names. */
export type ProjectionRule = {
  type: ResourceType;
  /** The event field that holds the resource's id. */
  idField: string;
  state: "live" | "deleted";
  /** The event with which Seam reports a new resource (what enrichment asks Seam about). */
  creates?: true;
};

const PROJECTION_RULES: Record<string, ProjectionRule> = {
  "acs_user.created": { type: "acs_user", idField: "acs_user_id", state: "live", creates: true },
  "acs_user.deleted": { type: "acs_user", idField: "acs_user_id", state: "deleted" },
  "acs_credential.issued": {
    type: "acs_credential",
    idField: "acs_credential_id",
    state: "live",
    creates: true,
  },
  "acs_credential.reissued": {
    type: "acs_credential",
    idField: "acs_credential_id",
    state: "live",
  },
  // An invalidated credential still exists in Seam and still blocks; only deletion ends it.
  "acs_credential.invalidated": {
    type: "acs_credential",
    idField: "acs_credential_id",
    state: "live",
  },
  "acs_credential.deleted": {
    type: "acs_credential",
    idField: "acs_credential_id",
    state: "deleted",
  },
  "enrollment_automation.deleted": {
    type: "enrollment_automation",
    idField: "enrollment_automation_id",
    state: "deleted",
  },
  // A phone is a device: `phone.deactivated` names it by `device_id`.
  "phone.deactivated": { type: "phone", idField: "device_id", state: "deleted" },
  "client_session.deleted": {
    type: "client_session",
    idField: "client_session_id",
    state: "deleted",
  },
};

/** The rule of an event type, or undefined for an event that is stored only. */
export const ruleFor = (eventType: string): ProjectionRule | undefined =>
  Object.hasOwn(PROJECTION_RULES, eventType) ? PROJECTION_RULES[eventType] : undefined;

/** What a projected event says about one resource: the classified change. */
export type ResourceChange = {
  type: ResourceType;
  id: string;
  workspaceId: string;
  state: "live" | "deleted";
  eventId: string;
  eventType: string;
  /** Epoch milliseconds of the event's `occurred_at`. */
  occurredAt: number;
};

/** A resource as projected. `unknown` is a linked resource Seam has not reported on yet. */
export type ResourceState = {
  state: "unknown" | "live" | "deleted";
  workspaceId: string | null;
  eventId: string | null;
  eventType: string | null;
  occurredAt: number | null;
};

export const UNKNOWN: ResourceState = {
  state: "unknown",
  workspaceId: null,
  eventId: null,
  eventType: null,
  occurredAt: null,
};

/**
 * The order in which events win. A deletion beats everything (deletion is terminal: nothing
 * earlier or later revives the resource); among events of the same kind the later `occurred_at`
 * wins, and the event id breaks ties. Because this is a total order and evolve keeps the
 * maximum, applying a set of events gives one result whatever their order or repetition.
 */
const compareRank = (a: ResourceChange, b: ResourceState): number => {
  if (b.eventId === null || b.occurredAt === null) return 1;
  const deletedA = a.state === "deleted" ? 1 : 0;
  const deletedB = b.state === "deleted" ? 1 : 0;
  if (deletedA !== deletedB) return deletedA - deletedB;
  if (a.occurredAt !== b.occurredAt) return a.occurredAt - b.occurredAt;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
};

/** Pure: the state after `change`, given the state before (UNKNOWN when never seen). */
export const evolve = (current: ResourceState, change: ResourceChange): ResourceState =>
  compareRank(change, current) > 0
    ? {
        state: change.state,
        workspaceId: change.workspaceId,
        eventId: change.eventId,
        eventType: change.eventType,
        occurredAt: change.occurredAt,
      }
    : current;

export const sameState = (a: ResourceState, b: ResourceState): boolean =>
  a.state === b.state && a.eventId === b.eventId;

/** The event type that reports a resource of this type deleted (CONTRACT §4). */
export const deletionEventOf = (type: ResourceType): string => {
  const found = Object.entries(PROJECTION_RULES).find(
    ([, rule]) => rule.type === type && rule.state === "deleted",
  );
  if (found === undefined) throw new Error(`no deletion event for ${type}`);
  return found[0];
};
