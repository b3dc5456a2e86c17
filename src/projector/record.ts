import type { EventRow } from "../sql/record-events.js";
import { sha256Hex } from "../util/sha256.js";
import { wellFormed } from "../util/well-formed.js";

/**
 * The stored form of an event (`EventRow`): its fields, the sha256 (hex) of its body as
 * received, and its outcome; a poison event's error is set by classify.ts. Apart from
 * classify.ts, which brings @seamapi/types' schemas (about 35 MB resident), because the
 * executor's reconcile builds records too, and it is loaded by every process.
 *
 * One object literal, built once and sent to Postgres as it is (record-events.ts): spreads of
 * the fields here and again in applyBatch were 4-5% of the projection's own CPU in a profile.
 * Its texts are well-formed (util/well-formed.ts): a key with a lone surrogate in a verified
 * body (ingress checks only the ids), named again in a schema error, failed the record's
 * statement, and the poison event was never stored. The hash is of the body as UTF-8, which is
 * the well-formed body's.
 */
export const buildEventRecord = (
  fields: Omit<EventRow, "payloadSha256" | "outcome" | "error">,
  outcome: EventRow["outcome"],
): EventRow => ({
  eventId: wellFormed(fields.eventId),
  eventType: wellFormed(fields.eventType),
  workspaceId: wellFormed(fields.workspaceId),
  occurredAt: fields.occurredAt,
  receivedAt: fields.receivedAt,
  source: fields.source,
  payload: wellFormed(fields.payload),
  payloadSha256: sha256Hex(fields.payload),
  outcome,
  error: null,
});
