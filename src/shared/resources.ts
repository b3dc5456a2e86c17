/**
 * The Seam resources that block a user identity's deletion (docs/api.md), by the names the API
 * answers with. The bottom layer: every feature may import it, it imports nothing of theirs.
 */
export const resourceTypes = [
  "acs_user",
  "acs_credential",
  "enrollment_automation",
  "phone",
  "client_session",
] as const;

export type ResourceType = (typeof resourceTypes)[number];

/** The steps of an execution (docs/api.md, CONTRACT §8), in the stepwise order. */
export const executionSteps = [
  "client_sessions",
  "acs_credentials",
  "acs_users",
  "enrollment_automations",
  "phones",
  "user_identity",
] as const;

export type ExecutionStep = (typeof executionSteps)[number];

export const executionStrategies = ["stepwise", "cascade"] as const;
export type ExecutionStrategy = (typeof executionStrategies)[number];

/**
 * The steps each strategy goes through, in order (CONTRACT §8): stepwise deletes each kind of
 * resource before the identity; cascade deletes the identity, and Seam's cascade the rest.
 */
export const strategySteps: Record<ExecutionStrategy, readonly ExecutionStep[]> = {
  stepwise: executionSteps,
  cascade: ["user_identity"],
};

/** Where a queued event came from: Seam's webhook, the replay CLI, or a backfill from Seam's API. */
export const queuedEventSources = ["webhook", "replay", "backfill"] as const;

/**
 * Where an event in the event log came from: a queued one, or `reconciled`, which the executor
 * records itself when Seam answers 404 for a resource (executor/reconcile.ts), never queued.
 */
export const eventSources = [...queuedEventSources, "reconciled"] as const;

/** The id prefix of a reconciled deletion's event, which the history tells apart by it. */
export const RECONCILED_EVENT_PREFIX = "reconciled-";

export const executionStatuses = ["running", "completed", "failed"] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

/**
 * Where one call of an execution is (db/schema.ts): to make, sent, answered and its deletion
 * event awaited, or complete.
 */
export const executionCallStates = ["pending", "calling", "awaiting", "done"] as const;
export type CallState = (typeof executionCallStates)[number];

/** What an execution calls Seam about: a resource, or the identity itself (its last step). */
export type CallTarget = ResourceType | "user_identity";
