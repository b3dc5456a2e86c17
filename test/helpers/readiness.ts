import type { EventJob } from "../../src/ingest/queue.js";
import type { Readiness } from "../../src/shared/readiness.js";

export { followEvents, readEvents, TEST_TOKEN } from "./client.js";
export type { Readiness };

export type LinkableType = Readiness["blockers"][number]["type"];

/** The Seam event that deletes one resource, with the fields @seamapi/types requires. */
export { buildLoneDeletionEvent as deletionEvent } from "../../sim/events.js";

/** An event queued as the replay CLI would queue it, past ingress. */
export const replayJob = (event: Record<string, unknown>): EventJob => ({
  body: JSON.stringify(event),
  eventId: String(event.event_id),
  receivedAt: new Date().toISOString(),
  source: "replay",
});
