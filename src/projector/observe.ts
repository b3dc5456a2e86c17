import type { Metrics } from "../metrics/metrics.js";
import { isKnownEventType } from "../seam/events.js";
import type { ApplyResult } from "./apply.js";
import type { Classified } from "./classify.js";

export type ProjectorMetrics = Pick<
  Metrics,
  | "eventsProjected"
  | "duplicatesSkipped"
  | "poisonEvents"
  | "projectionLagSeconds"
  | "eventConflicts"
>;

/**
 * A label value from a payload is bounded: an event type Seam's schemas do not know is `other`,
 * or 5,000 made-up types would be 5,000 series.
 */
const eventTypeLabel = (eventType: string): string =>
  isKnownEventType(eventType) ? eventType : "other";

/** A lag is never negative: an `occurred_at` in the future (a clock, or a lie) counts as 0. */
const lagSeconds = (nowMs: number, sinceMs: number) => Math.max(0, (nowMs - sinceMs) / 1000);

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
  // One increment per label pair and batch, not per event, and the lag's two children taken
  // once a batch: prom-client hashes the labels on every call that names them.
  const projected = new Map<string, { event_type: string; result: string; count: number }>();
  const sinceOccurred = metrics.projectionLagSeconds.labels({ since: "occurred" });
  const sinceReceived = metrics.projectionLagSeconds.labels({ since: "received" });
  classified.forEach((item, index) => {
    const result = results[index];
    if (result === undefined || result instanceof Error) return;
    const eventType = eventTypeLabel(item.record.eventType);
    const key = `${eventType} ${result.kind}`;
    const entry = projected.get(key);
    if (entry === undefined)
      projected.set(key, { event_type: eventType, result: result.kind, count: 1 });
    else entry.count += 1;
    if (result.kind === "duplicate") {
      metrics.duplicatesSkipped.inc();
      return;
    }
    if (result.kind === "conflict") {
      metrics.eventConflicts.inc();
      return;
    }
    if (result.kind === "poison") {
      metrics.poisonEvents.inc();
      return;
    }
    // A projected event's instant was parsed by classify; only an ignored one is parsed here.
    const occurredAt =
      item.kind === "projected" ? item.change.occurredAt : Date.parse(item.record.occurredAt ?? "");
    if (Number.isFinite(occurredAt)) sinceOccurred.observe(lagSeconds(nowMs, occurredAt));
    const receivedAt = Date.parse(item.record.receivedAt);
    if (Number.isFinite(receivedAt)) sinceReceived.observe(lagSeconds(nowMs, receivedAt));
  });
  for (const { count, ...labels } of projected.values()) metrics.eventsProjected.inc(labels, count);
};
