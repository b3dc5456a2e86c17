import { Redis } from "ioredis";
import { addEvents, createEventsQueue } from "../src/ingest/queue.js";
import { createProducerRedis } from "../src/redis.js";
import type { ServiceProcess } from "../test/helpers/process.js";
import { dropPrefix } from "../test/helpers/redis.js";
import { buildIdentityScenario } from "../test/helpers/scenario.js";
import { waitFor } from "../test/helpers/wait-for.js";
import {
  compared,
  cpuMeter,
  type Figure,
  SERVER_PROCESSES,
  startBenchService,
  stopBenchService,
} from "./lib.js";

const EVENTS = Number(process.env.BENCH_PROJECTION_EVENTS ?? 50_000);
/** The service's own defaults (config.ts) unless told. */
const WORKER_SETTINGS = {
  ...(process.env.BENCH_WORKER_CONCURRENCY
    ? { WORKER_CONCURRENCY: process.env.BENCH_WORKER_CONCURRENCY }
    : {}),
  ...(process.env.BENCH_WORKER_BATCH_SIZE
    ? { WORKER_BATCH_SIZE: process.env.BENCH_WORKER_BATCH_SIZE }
    : {}),
};
/**
 * The no-op worker at its best: 64 to 256 jobs in hand drain within the noise of each other
 * (11,400-12,800 jobs/s here); at 512 it falls to about 9,500 and at 1,024 to 8,200, as
 * BullMQ's per-job bookkeeping grows with the jobs in hand. A ceiling at our own 512 would flatter us.
 */
const NOOP_CONCURRENCY = process.env.BENCH_NOOP_CONCURRENCY ?? "256";

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
    await addEvents(
      queue,
      events.map((event) => ({
        body: JSON.stringify(event),
        eventId: event.event_id,
        receivedAt,
        source: "webhook" as const,
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
  const cpuUsed = cpuMeter({
    consumer: () => (consumer.child.pid === undefined ? [] : [consumer.child.pid]),
    ...SERVER_PROCESSES,
  });
  const before = EVENTS - (await remaining());
  await waitFor(async () => (await remaining()) === 0, {
    timeoutMs: 240_000,
    intervalMs: 10,
    message: "drained",
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuUsed().ms;
  await stopBenchService(consumer);
  redis.disconnect();
  const drained = EVENTS - before;
  const perEvent = (ms: number) => Math.round((ms * 1000) / drained);
  process.stdout.write(
    `  ${Math.round(drained / seconds)}/s; CPU µs per event: consumer ${perEvent(cpu.consumer)}, redis ${perEvent(cpu.redis)}, postgres ${perEvent(cpu.postgres)}\n`,
  );
  return drained / seconds;
};

/** Figure 2: 50,000 queued events drained into Postgres, against a no-op BullMQ worker. */
export const benchProjection = async (env: { databaseUrl: string; prefix: string }) => {
  const noopPrefix = `${env.prefix}-noop`;
  process.stdout.write(`projection: queueing ${EVENTS} events…\n`);
  await fillQueue(noopPrefix);
  process.stdout.write("projection: no-op worker ceiling…\n");
  const ceiling = await timeDrain(noopPrefix, () =>
    startBenchService("noop-worker", {
      QUEUE_PREFIX: noopPrefix,
      WORKER_CONCURRENCY: NOOP_CONCURRENCY,
    }),
  );
  await dropPrefix(noopPrefix);

  await fillQueue(env.prefix);
  process.stdout.write("projection: seam-projector worker…\n");
  const ours = await timeDrain(env.prefix, () =>
    startBenchService(
      "ours",
      {
        ROLE: "worker",
        DATABASE_URL: env.databaseUrl,
        QUEUE_PREFIX: env.prefix,
        ...WORKER_SETTINGS,
      },
      process.env.PROFILE_WORKER
        ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_WORKER}`] }
        : process.env.BENCH_NODE_ARGS
          ? { nodeArgs: process.env.BENCH_NODE_ARGS.split(" ") }
          : {},
    ),
  );
  await dropPrefix(env.prefix);
  const figures: Record<string, Figure> = {
    projection_events_per_second: compared(Math.round(ours), "events/s", Math.round(ceiling), {
      text: "ratio >= 0.50",
      met: (_, r) => r >= 0.5,
    }),
  };
  return figures;
};
