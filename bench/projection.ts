import { Redis } from "ioredis";
import { createEventsQueue, jobIdFor } from "../src/ingest/queue.js";
import { createProducerRedis } from "../src/redis.js";
import { type ServiceProcess, spawnService, stopService } from "../test/helpers/process.js";
import { dropPrefix } from "../test/helpers/redis.js";
import { buildIdentityScenario } from "../test/helpers/scenario.js";
import { waitFor } from "../test/helpers/wait-for.js";
import { type Figure, ratio } from "./lib.js";

const EVENTS = 50_000;
const CONCURRENCY = "100";

/** Fills the queue with EVENTS realistic events (identity scenarios) without a worker running. */
const fillQueue = async (prefix: string) => {
  await dropPrefix(prefix);
  const redis = createProducerRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const queue = createEventsQueue(redis, prefix);
  await queue.waitUntilReady();
  let added = 0;
  while (added < EVENTS) {
    const events = buildIdentityScenario({ start: new Date(Date.now() - 60_000) }).events.slice(
      0,
      EVENTS - added,
    );
    const receivedAt = new Date().toISOString();
    await queue.addBulk(
      events.map((event) => ({
        name: "event",
        data: {
          body: JSON.stringify(event),
          eventId: event.event_id,
          receivedAt,
          source: "webhook" as const,
        },
        opts: { jobId: jobIdFor(event.event_id) },
      })),
    );
    added += events.length;
  }
  await queue.close();
  redis.disconnect();
};

/** Times a consumer from its first completed job to its last, by watching the queue's counts. */
const timeDrain = async (prefix: string, start: () => Promise<ServiceProcess>) => {
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const waitingKey = `${prefix}:seam-events:wait`;
  const remaining = async () =>
    (await redis.llen(waitingKey)) + (await redis.llen(`${prefix}:seam-events:active`));
  const consumer = await start();
  // The clock starts when the first job leaves the waiting list, so process start-up is not counted.
  await waitFor(async () => (await redis.llen(waitingKey)) < EVENTS, {
    timeoutMs: 30_000,
    intervalMs: 2,
    message: "first job",
  });
  const started = performance.now();
  const before = EVENTS - (await remaining());
  await waitFor(async () => (await remaining()) === 0, {
    timeoutMs: 240_000,
    intervalMs: 10,
    message: "drained",
  });
  const seconds = (performance.now() - started) / 1000;
  await stopService(consumer);
  redis.disconnect();
  return (EVENTS - before) / seconds;
};

/** Figure 2: 50,000 queued events drained into Postgres, against a no-op BullMQ worker. */
export const benchProjection = async (env: { databaseUrl: string; prefix: string }) => {
  const noopPrefix = `${env.prefix}-noop`;
  process.stdout.write(`projection: queueing ${EVENTS} events…\n`);
  await fillQueue(noopPrefix);
  process.stdout.write("projection: no-op worker ceiling…\n");
  const ceiling = await timeDrain(noopPrefix, () =>
    spawnService(
      { QUEUE_PREFIX: noopPrefix, WORKER_CONCURRENCY: CONCURRENCY },
      { entry: "bench/noop-worker.ts" },
    ),
  );
  await dropPrefix(noopPrefix);

  await fillQueue(env.prefix);
  process.stdout.write("projection: seam-projector worker…\n");
  const ours = await timeDrain(env.prefix, () =>
    spawnService(
      {
        ROLE: "worker",
        LOG_LEVEL: "warn",
        DATABASE_URL: env.databaseUrl,
        QUEUE_PREFIX: env.prefix,
        WORKER_CONCURRENCY: CONCURRENCY,
        WORKER_BATCH_SIZE: "100",
      },
      process.env.PROFILE_WORKER
        ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_WORKER}`] }
        : {},
    ),
  );
  await dropPrefix(env.prefix);
  const figures: Record<string, Figure> = {
    projection_events_per_second: {
      value: Math.round(ours),
      unit: "events/s",
      ceiling: Math.round(ceiling),
      ratio: ratio(ours, ceiling),
      goal: "ratio >= 0.50",
      met: ours / ceiling >= 0.5,
    },
  };
  return figures;
};
