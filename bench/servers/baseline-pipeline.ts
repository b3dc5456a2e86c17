import { serve } from "@hono/node-server";
import { Queue, Worker } from "bullmq";
import { Hono } from "hono";
import postgres from "postgres";
import { Webhook } from "svix";
import { createProducerRedis, createWorkerRedis } from "../../src/redis.js";
import { BARE_TABLE } from "../lib/events.js";
import { env } from "./kit.js";

/**
 * The baseline of the end-to-end figures (not a ceiling: seam-projector beats it on some): a
 * naive webhook-to-waiter pipeline built from the same parts, as a first version would be. Verify the signature with svix, one BullMQ `add` per request; a worker in the
 * same process runs one upsert per job that marks the resource deleted and NOTIFYs its identity;
 * one LISTEN connection wakes the long-poll waiting on that identity, which answers once all its
 * resources are gone (counted in memory, read once when the waiter arrives). No event log, no
 * evolve rules, no batching, no race handling. One job and one statement per event, so it does
 * less work per event than seam-projector but pays more round trips for it.
 *
 * Same routes as seam-projector, so the bench drives both with one harness.
 */
const CHANNEL = "bench_bare_ready";
const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? 10);
// Jobs in hand. At the pool size (10) a job's BullMQ round trips leave it ~1,600 jobs/s here,
// and under 1,000 webhooks/s in the same process ~300/s: it fell seconds behind. 64 keeps up.
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 64);
const sql = postgres(env("DATABASE_URL"), { max: poolSize, onnotice: () => {} });
const webhook = new Webhook(env("SEAM_WEBHOOK_SECRET"));
const prefix = env("QUEUE_PREFIX");
const queue = new Queue("bare-events", {
  connection: createProducerRedis(env("REDIS_URL")),
  prefix,
});

const ID_FIELDS = [
  "acs_user_id",
  "acs_credential_id",
  "device_id",
  "client_session_id",
  "enrollment_automation_id",
];

type Waiting = { remaining: number; answer: () => void };
const waiting = new Map<string, Waiting>();

const app = new Hono()
  .post("/webhooks/seam", async (c) => {
    const body = await c.req.text();
    try {
      webhook.verify(body, {
        "svix-id": c.req.header("svix-id") ?? "",
        "svix-timestamp": c.req.header("svix-timestamp") ?? "",
        "svix-signature": c.req.header("svix-signature") ?? "",
      });
    } catch {
      return c.json({ error: { code: "invalid_signature" } }, 401);
    }
    const event = JSON.parse(body) as { event_id: string };
    await queue.add("event", { body }, { jobId: event.event_id, removeOnComplete: true });
    return c.json({ ok: true }, 202);
  })
  .get("/v1/user_identities/:id/deletion", async (c) => {
    const id = c.req.param("id");
    const [row] = await sql<{ remaining: number }[]>`
      select count(*)::int as remaining from bench_bare_resources
      where identity_id = ${id} and not deleted`;
    const remaining = row?.remaining ?? 0;
    if (remaining > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 60_000);
        waiting.set(id, {
          remaining,
          answer: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
      waiting.delete(id);
    }
    return c.json({ user_identity_id: id, ready: true }, 200);
  });

await sql.unsafe(BARE_TABLE);
await sql.listen(CHANNEL, (identityId) => {
  const waiter = waiting.get(identityId);
  if (waiter === undefined) return;
  waiter.remaining -= 1;
  if (waiter.remaining <= 0) waiter.answer();
});
const worker = new Worker<{ body: string }>(
  "bare-events",
  async (job) => {
    const event = JSON.parse(job.data.body) as Record<string, unknown>;
    const field = ID_FIELDS.find((name) => typeof event[name] === "string");
    if (field === undefined) return;
    await sql`
      with marked as (
        insert into bench_bare_resources (resource_id, deleted) values (${String(event[field])}, true)
        on conflict (resource_id) do update set deleted = true where not bench_bare_resources.deleted
        returning identity_id)
      select pg_notify(${CHANNEL}, identity_id::text) from marked where identity_id is not null`;
  },
  { connection: createWorkerRedis(env("REDIS_URL")), prefix, concurrency },
);
serve({ fetch: app.fetch, port: Number(env("PORT")), hostname: "127.0.0.1" }, () => {
  process.stdout.write("listening\n");
});
process.on("SIGTERM", () => {
  void Promise.allSettled([worker.close(), queue.close(), sql.end({ timeout: 1 })]).then(() =>
    process.exit(0),
  );
});
