import type { Metrics } from "../metrics/metrics.js";
import type { ApplyResult } from "./apply.js";
import type { Classified } from "./classify.js";

export type ProjectorMetrics = Pick<
  Metrics,
  "eventsProjected" | "duplicatesSkipped" | "poisonEvents" | "projectionLagSeconds"
>;

/**
 * Counts what a batch did. Lag is observed for events applied now (not for duplicates, whose
 * first delivery was observed already): from `occurred_at`, which includes Seam's and Svix's
 * delay, and from receipt, which is this service's own queueing and projection time.
 */
export const observeBatch = (
  metrics: ProjectorMetrics,
  classified: Classified[],
  results: (ApplyResult | Error)[],
  nowMs: number,
): void => {
  classified.forEach((item, index) => {
    const result = results[index];
    if (result === undefined || result instanceof Error) return;
    const eventType = item.record.eventType;
    metrics.eventsProjected.inc({ event_type: eventType, result: result.kind });
    if (result.kind === "duplicate") {
      metrics.duplicatesSkipped.inc();
      return;
    }
    if (result.kind === "poison") {
      metrics.poisonEvents.inc();
      return;
    }
    const occurredAt =
      item.record.occurredAt === null ? Number.NaN : Date.parse(item.record.occurredAt);
    if (Number.isFinite(occurredAt)) {
      metrics.projectionLagSeconds.observe({ since: "occurred" }, (nowMs - occurredAt) / 1000);
    }
    const receivedAt = Date.parse(item.record.receivedAt);
    if (Number.isFinite(receivedAt)) {
      metrics.projectionLagSeconds.observe({ since: "received" }, (nowMs - receivedAt) / 1000);
    }
  });
};
