import type { EventJob } from "../ingest/queue.js";
import { checkSeamEvent } from "../seam/events.js";
import type { EventRow } from "../sql/record-events.js";
import { wellFormed } from "../util/well-formed.js";
import { type ResourceChange, ruleFor } from "./evolve.js";
import { buildEventRecord } from "./record.js";

export type Classified =
  | { kind: "projected"; record: EventRow; change: ResourceChange }
  | { kind: "ignored"; record: EventRow }
  | { kind: "poison"; record: EventRow; error: string };

const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** The record is built as projected; these set another outcome on it (it is the caller's own). */
const poison = (record: EventRow, error: string): Classified => {
  record.outcome = "poison";
  // The error may quote the body (a key in a schema issue's path): well-formed, as record.ts says.
  record.error = wellFormed(error);
  return { kind: "poison", record, error };
};
const ignored = (record: EventRow): Classified => {
  record.outcome = "ignored";
  return { kind: "ignored", record };
};

export type ClassifyOptions = {
  /** SEAM_WORKSPACE_ID: events of any other workspace are stored as `ignored` (docs/operations.md). */
  workspaceId?: string | undefined;
};

/**
 * Pure: reads a queued job into what the projector will store and apply. Store first, parse
 * second: every outcome carries a record, so even a poison event is kept in Postgres.
 */
export const classifyJob = (job: EventJob, options: ClassifyOptions = {}): Classified => {
  let json: Record<string, unknown> = {};
  let parseError: string | undefined;
  try {
    const parsed: unknown = JSON.parse(job.body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      json = parsed as Record<string, unknown>;
    } else parseError = "body is not a JSON object";
  } catch {
    parseError = "body is not JSON";
  }
  const occurredMs = Date.parse(text(json.occurred_at));
  const record = buildEventRecord(
    {
      eventId: job.eventId,
      eventType: text(json.event_type) || "unknown",
      workspaceId: text(json.workspace_id),
      occurredAt: Number.isNaN(occurredMs) ? null : new Date(occurredMs).toISOString(),
      receivedAt: job.receivedAt,
      source: job.source,
      payload: job.body,
    },
    "projected",
  );
  if (parseError !== undefined) return poison(record, parseError);
  if (record.occurredAt === null) return poison(record, "occurred_at is not a date");
  const rule = ruleFor(record.eventType);
  if (rule === undefined) return ignored(record);
  // Verified, but of a workspace this service does not project: kept, and it changes nothing.
  const bound = options.workspaceId?.toLowerCase();
  if (bound !== undefined && record.workspaceId.toLowerCase() !== bound) return ignored(record);
  // Ingress takes `Z` or an offset (docs/api.md); Seam's schema only `Z`. Checked as the same
  // instant in UTC, so an offset that passed the door is not poison here. The stored payload is
  // the body as received either way.
  const checked = checkSeamEvent(
    json.occurred_at === record.occurredAt ? json : { ...json, occurred_at: record.occurredAt },
  );
  if (!checked.ok) return poison(record, checked.error);
  const id = checked.event[rule.idField];
  if (typeof id !== "string") return poison(record, `${rule.idField} is missing`);
  return {
    kind: "projected",
    record,
    change: {
      type: rule.type,
      id: id.toLowerCase(),
      workspaceId: record.workspaceId,
      state: rule.state,
      eventId: record.eventId,
      eventType: record.eventType,
      occurredAt: occurredMs,
    },
  };
};
