import type { ResourceType } from "../../shared/resources.js";

/** What a projected event says about one resource. */
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

/** How one resource type reads its events: which field names it, and what each event means. */
export type ResourceRules = {
  type: ResourceType;
  idField: string;
  events: Record<string, "live" | "deleted">;
};
