import { Hono } from "hono";
import { errorBody } from "../errors.js";
import { requestHeader } from "../http/headers.js";
import type { WebhookOutcome } from "../metrics/metrics.js";
import { type IngestDeps, ingestWebhook } from "./ingest.js";
import type { EventSource } from "./queue.js";
import { readRawBody } from "./raw-body.js";

/** Seconds a sender should wait after a 503 before it tries again. */
const RETRY_AFTER_SECONDS = "5";

/** The replay CLI marks its deliveries; anything else is a webhook. The signature still applies. */
const sourceOf = (value: string | undefined): EventSource =>
  value === "replay" ? "replay" : "webhook";

export type IngestRouteDeps = IngestDeps & { bodyLimitBytes: number };

export const ingestRoutes = (deps: IngestRouteDeps) => {
  const count = (outcome: WebhookOutcome) => deps.metrics?.webhooksReceived.inc({ outcome });
  return new Hono().post("/seam", async (c) => {
    const header = (name: string) => requestHeader(c, name);
    // Content-Length first, then the streamed bytes counted; nothing is read past the limit.
    const body = await readRawBody(c, deps.bodyLimitBytes);
    if (!body.ok && body.reason === "aborted") {
      // No one is left to read an answer; this one only ends the exchange for Hono.
      count("aborted");
      return c.json(errorBody("invalid_request", "the body ended before Content-Length"), 400);
    }
    if (!body.ok) {
      count("too_large");
      return c.json(
        errorBody("payload_too_large", `body larger than ${deps.bodyLimitBytes} bytes`),
        413,
      );
    }
    const outcome = await ingestWebhook(deps, {
      body: body.bytes,
      header,
      source: sourceOf(header("x-seam-projector-source")),
    });
    count(outcome.kind);
    switch (outcome.kind) {
      case "accepted":
        return c.json({ ok: true }, 202);
      case "invalid_signature":
        return c.json(errorBody("invalid_signature", outcome.message), 401);
      case "invalid_payload":
        return c.json(errorBody("invalid_payload", outcome.message, outcome.field), 400);
      case "queue_unavailable":
      case "queue_full": {
        // Backpressure is answered as an outage: the sender keeps the event and retries.
        const message =
          outcome.kind === "queue_full"
            ? `queue is full (${outcome.depth} events waiting), retry later`
            : outcome.message;
        c.header("Retry-After", RETRY_AFTER_SECONDS);
        return c.json(errorBody("queue_unavailable", message), 503);
      }
    }
  });
};
