import { sql } from "drizzle-orm";
import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import {
  eventSources,
  executionCallStates,
  executionStatuses,
  executionSteps,
  executionStrategies,
  resourceTypes,
} from "../shared/resources.js";

/**
 * Every verified event, kept as received. The event id is the idempotency key: a second delivery
 * (a Svix retry, a BullMQ re-run after a stall, a replay) finds its row and changes nothing.
 */
export const events = pgTable(
  "events",
  {
    eventId: text("event_id").primaryKey(),
    eventType: text("event_type").notNull(),
    workspaceId: text("workspace_id").notNull(),
    /** Null only when the payload's `occurred_at` is not a date (such an event is poison). */
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "string" }),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "string" }).notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true, mode: "string" })
      .notNull()
      .defaultNow(),
    source: text("source", { enum: eventSources }).notNull(),
    /** The body exactly as it was signed, so a field Seam adds later is never lost. */
    payload: text("payload").notNull(),
    /**
     * sha256 (hex) of `payload` as UTF-8: a redelivery of the id with another body is told
     * apart (a conflict, counted and logged) without comparing bodies.
     */
    payloadSha256: text("payload_sha256"),
    outcome: text("outcome", { enum: ["projected", "ignored", "poison"] }).notNull(),
    error: text("error"),
  },
  (t) => [
    // Serves retention: the oldest rows first, a batch at a time (admin/retention.ts).
    index("events_received_at_idx").on(t.receivedAt),
    index("events_poison_idx").on(t.recordedAt).where(sql`${t.outcome} = 'poison'`),
  ],
);

/**
 * One row per Seam resource we have heard of, from an event or from a link. The link to a user
 * identity lives on the row itself: linking and projecting then lock the same row, which is what
 * makes "link after delete" and "delete after link" meet (see projector/apply.ts).
 */
export const resources = pgTable(
  "resources",
  {
    resourceType: text("resource_type", { enum: resourceTypes }).notNull(),
    resourceId: uuid("resource_id").notNull(),
    workspaceId: text("workspace_id"),
    userIdentityId: uuid("user_identity_id"),
    linkedAt: timestamp("linked_at", { withTimezone: true, mode: "string" }),
    /** `unknown`: linked but Seam has not reported on it yet. `deleted` is terminal. */
    state: text("state", { enum: ["unknown", "live", "deleted"] }).notNull(),
    /** The event that set `state`, and when it occurred: the order key of evolve(). */
    eventId: text("event_id"),
    eventType: text("event_type"),
    eventOccurredAt: timestamp("event_occurred_at", {
      withTimezone: true,
      mode: "string",
      precision: 3,
    }),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "string" })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.resourceType, t.resourceId] }),
    // Serves the blocker query: the live or unknown resources of one identity.
    index("resources_blockers_idx")
      .on(t.userIdentityId)
      .where(sql`${t.userIdentityId} is not null and ${t.state} <> 'deleted'`),
  ],
);

/** A requested deletion of a user identity, and whether nothing blocks it any more. */
export const pendingDeletions = pgTable(
  "pending_deletions",
  {
    userIdentityId: uuid("user_identity_id").primaryKey(),
    status: text("status", { enum: ["pending", "ready"] }).notNull(),
    requestedAt: timestamp("requested_at", { withTimezone: true, mode: "string" })
      .notNull()
      .defaultNow(),
    readyAt: timestamp("ready_at", { withTimezone: true, mode: "string" }),
  },
  (t) => [
    // Serve `GET /v1/deletions` (newest first, keyset-paginated on requested_at and the id):
    // by status, and over all statuses. Ascending, read backwards: drizzle-kit writes a
    // descending column as DESC NULLS LAST, an order `order by … desc` (NULLS FIRST) cannot use.
    index("pending_deletions_status_list_idx").on(t.status, t.requestedAt, t.userIdentityId),
    index("pending_deletions_list_idx").on(t.requestedAt, t.userIdentityId),
  ],
);

/**
 * The deletion of an identity carried out in Seam (CONTRACT §8), one per deletion request: it
 * goes when the request does (a cancel). `execution_id` is new at every start, so a job queued
 * for an execution that was canceled and started afresh finds nothing to do.
 */
export const executions = pgTable(
  "executions",
  {
    userIdentityId: uuid("user_identity_id")
      .primaryKey()
      .references(() => pendingDeletions.userIdentityId, { onDelete: "cascade" }),
    executionId: uuid("execution_id").notNull(),
    strategy: text("strategy", { enum: executionStrategies }).notNull(),
    status: text("status", { enum: executionStatuses }).notNull(),
    step: text("step", { enum: executionSteps }),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "string" })
      .notNull()
      .defaultNow(),
    stepStartedAt: timestamp("step_started_at", { withTimezone: true, mode: "string" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "string" }),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "string" })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    // Serves the sweep at start-up: the executions still running.
    index("executions_running_idx").on(t.startedAt).where(sql`${t.status} = 'running'`),
  ],
);

/**
 * The Seam calls of an execution, one row per resource it deletes (and one for the identity):
 * what was called, how often, when, and what Seam answered. `state`: `pending` (to be called),
 * `calling` (a delete sent, its answer not recorded: after a crash it is sent once more),
 * `awaiting` (answered; its deletion event not projected yet, until `deadline_at`), `done`.
 */
export const executionCalls = pgTable(
  "execution_calls",
  {
    userIdentityId: uuid("user_identity_id")
      .notNull()
      .references(() => executions.userIdentityId, { onDelete: "cascade" }),
    resourceType: text("resource_type").notNull(),
    resourceId: uuid("resource_id").notNull(),
    step: text("step", { enum: executionSteps }).notNull(),
    state: text("state", { enum: executionCallStates }).notNull(),
    /** Rounds of the timeout fallback so far: each is one `get` that found the resource. */
    round: integer("round").notNull().default(0),
    deleteCalls: integer("delete_calls").notNull().default(0),
    getCalls: integer("get_calls").notNull().default(0),
    calledAt: timestamp("called_at", { withTimezone: true, mode: "string" }),
    answeredAt: timestamp("answered_at", { withTimezone: true, mode: "string" }),
    /** What Seam answered last, e.g. `200`, `404`, `429`; `deleted` when its event came first. */
    answer: text("answer"),
    deadlineAt: timestamp("deadline_at", { withTimezone: true, mode: "string" }),
    doneAt: timestamp("done_at", { withTimezone: true, mode: "string" }),
  },
  (t) => [primaryKey({ columns: [t.userIdentityId, t.resourceType, t.resourceId] })],
);
