import type { Metrics } from "../metrics/metrics.js";
import type { QueueGate } from "./backpressure.js";
import type { EnqueueResult } from "./enqueue.js";
import { parseEnvelope } from "./payload.js";
import type { EventJob, EventSource } from "./queue.js";
import { decodeBody } from "./raw-body.js";
import type { Verifier } from "./verify.js";

/** Every expected end of a webhook delivery; HTTP status is chosen in one switch (route.ts). */
export type IngestOutcome =
  | { kind: "accepted"; eventId: string }
  | { kind: "invalid_signature"; message: string }
  | { kind: "invalid_payload"; message: string; field?: string }
  | { kind: "queue_unavailable"; message: string }
  | { kind: "queue_full"; depth: number };

export type IngestDeps = {
  verify: Verifier;
  enqueue: (job: EventJob) => Promise<EnqueueResult>;
  now: () => Date;
  /** Backpressure; absent, every valid event is offered to the queue. */
  gate?: QueueGate;
  metrics?: Pick<Metrics, "webhooksReceived" | "enqueueSeconds">;
};

/**
 * Signature first (over the bytes as received), then decoding and payload, then backpressure,
 * then the durable enqueue (docs/api.md).
 */
export const ingestWebhook = async (
  deps: IngestDeps,
  request: { body: Buffer; header: (name: string) => string | undefined; source: EventSource },
): Promise<IngestOutcome> => {
  const verified = deps.verify(request.body, request.header);
  if (!verified.ok) return { kind: "invalid_signature", message: verified.reason };
  const text = decodeBody(request.body);
  if (text === undefined) return { kind: "invalid_payload", message: "body is not UTF-8" };
  const parsed = parseEnvelope(text);
  if (!parsed.ok) {
    return parsed.field === undefined
      ? { kind: "invalid_payload", message: parsed.message }
      : { kind: "invalid_payload", message: parsed.message, field: parsed.field };
  }
  const eventId = parsed.envelope.event_id;
  const admission = deps.gate?.admit();
  if (admission?.ok === false) return { kind: "queue_full", depth: admission.depth };
  const stopTimer = deps.metrics?.enqueueSeconds.startTimer();
  const enqueued = await deps.enqueue({
    body: text,
    eventId,
    receivedAt: deps.now().toISOString(),
    source: request.source,
  });
  if (!enqueued.ok) return { kind: "queue_unavailable", message: "event not queued, retry later" };
  stopTimer?.();
  return { kind: "accepted", eventId };
};
