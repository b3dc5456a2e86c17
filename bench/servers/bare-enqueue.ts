import { type HttpBindings, serve } from "@hono/node-server";
import { Hono } from "hono";
import { createEnqueue } from "../../src/ingest/enqueue.js";
import { createEventsQueue } from "../../src/ingest/queue.js";
import { createVerifier } from "../../src/ingest/verify.js";
import { createProducerRedis } from "../../src/redis.js";
import { env, readBody } from "./kit.js";

/**
 * The enqueue floor of ingest: what any webhook route that answers 202 only once the event is
 * durable in BullMQ must do, and nothing else. The bare route's body read, the service's own
 * verifier (node:crypto's HMAC over the bytes), a JSON parse for the event id, and the service's
 * own group-committed enqueue (one `addBulk` for the requests that arrive together, into a
 * queue with the service's job options). No middleware, log line, metric, validation or
 * backpressure: a ceiling of the durable part, which shows how much of the gap to the bare
 * route is the queue's and how much is the service's own.
 */

const verify = createVerifier([env("SEAM_WEBHOOK_SECRET")], () => new Date());
const queue = createEventsQueue(createProducerRedis(env("REDIS_URL")), env("QUEUE_PREFIX"));
const { enqueue } = createEnqueue(queue, { timeoutMs: 1500 });

const app = new Hono<{ Bindings: HttpBindings }>().post("/webhooks/seam", async (c) => {
  const body = await readBody(c.env.incoming);
  if (!verify(body, (name) => c.req.header(name)).ok) return c.json({ ok: false }, 401);
  const text = body.toString("utf8");
  const { event_id: eventId } = JSON.parse(text) as { event_id: string };
  const enqueued = await enqueue({
    body: text,
    eventId,
    receivedAt: new Date().toISOString(),
    source: "webhook",
  });
  return enqueued.ok ? c.json({ ok: true }, 202) : c.json({ ok: false }, 503);
});
serve({ fetch: app.fetch, port: Number(env("PORT")), hostname: "127.0.0.1" }, () => {
  process.stdout.write("listening\n");
});
process.on("SIGTERM", () => {
  void queue.close().finally(() => process.exit(0));
});
