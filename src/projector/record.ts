import type { EventRow } from "../sql/record-events.js";
import { sha256Hex } from "../util/sha256.js";

/** An event as the event log stores it. */
export type EventRecord = Omit<EventRow, "outcome" | "error">;

/**
 * The stored form of an event: its fields, and the sha256 (hex) of its body as received. Apart
 * from classify.ts, which brings @seamapi/types' schemas (about 35 MB resident), because the
 * executor's reconcile builds records too, and it is loaded by every process.
 */
export const buildEventRecord = (fields: Omit<EventRecord, "payloadSha256">): EventRecord => ({
  ...fields,
  payloadSha256: sha256Hex(fields.payload),
});
