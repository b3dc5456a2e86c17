import { randomUUID } from "node:crypto";
import { buildDeletionEvent, createAcsContext } from "../../sim/events.js";
import type { EventJob } from "../../src/ingest/queue.js";
import type { Readiness } from "../../src/shared/readiness.js";

export { followEvents, readEvents, TEST_TOKEN } from "./client.js";
export type { Readiness };

export type LinkableType = Readiness["blockers"][number]["type"];

/** The Seam event that deletes one resource, with the fields @seamapi/types requires. */
export const deletionEvent = (
  type: LinkableType,
  id: string,
  at: Date = new Date(),
): Record<string, unknown> =>
  buildDeletionEvent(type, id, { workspaceId: randomUUID(), at, acs: createAcsContext() });

/** An event queued as the replay CLI would queue it, past ingress. */
export const replayJob = (event: Record<string, unknown>): EventJob => ({
  body: JSON.stringify(event),
  eventId: String(event.event_id),
  receivedAt: new Date().toISOString(),
  source: "replay",
});
