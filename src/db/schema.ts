import { sql } from "drizzle-orm";
import { index, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { resourceTypes } from "../shared/resources.js";

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
    source: text("source", { enum: ["webhook", "replay", "backfill"] }).notNull(),
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
    index("events_occurred_at_idx").on(t.occurredAt),
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
    index("pending_deletions_pending_idx").on(t.requestedAt).where(sql`${t.status} = 'pending'`),
  ],
);
