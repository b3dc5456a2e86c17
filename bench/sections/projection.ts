import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { loadConfig } from "../../src/config.js";
import { addEvents, createEventsQueue, EVENTS_QUEUE } from "../../src/ingest/queue.js";
import { createProducerRedis } from "../../src/redis.js";
import { cpuMeter, SERVER_PROCESSES } from "../lib/cpu.js";
import { identityLifecycle, resetTables } from "../lib/events.js";
import { type Figure, figure, progress } from "../lib/figures.js";
import { until } from "../lib/processes.js";
import {
  DATABASE_URL,
  dropPrefix,
  profileArgs,
  REDIS_URL,
  type Service,
  startBenchServer,
  startOurs,
  stopAll,
} from "../lib/services.js";

const EVENTS = Number(process.env.BENCH_PROJECTION_EVENTS ?? 50_000);
/**
 * Concurrencies the no-op worker is tried at in every round, each with its writes apart and
 * together (bench/servers/noop-worker.ts); the round's best is its ceiling.
 */
const NOOP_CONCURRENCIES = [64, 128, 256, 512];
const NOOP_WRITES = ["apart", "together"] as const;
type NoopSetting = { concurrency: number; writes: (typeof NOOP_WRITES)[number] };
const settingName = (s: NoopSetting) =>
  `${s.concurrency}${s.writes === "together" ? " together" : ""}`;

/** Fills the queue with EVENTS realistic events (identity lifecycles), no consumer running. */
const fillQueue = async (prefix: string) => {
  await dropPrefix(prefix);
  const redis = createProducerRedis(REDIS_URL);
  const queue = createEventsQueue(redis, prefix);
  await queue.waitUntilReady();
  const start = new Date(Date.now() - 3_600_000);
  let batch: { body: string; eventId: string; receivedAt: string; source: "webhook" }[] = [];
  for (let added = 0; added < EVENTS; ) {
    for (const event of identityLifecycle(start).slice(0, EVENTS - added)) {
      batch.push({
        body: JSON.stringify(event),
        eventId: event.event_id,
        receivedAt: new Date().toISOString(),
        source: "webhook",
      });
      added += 1;
    }
    if (batch.length >= 1000 || added >= EVENTS) {
      await addEvents(queue, batch);
      batch = [];
    }
  }
  await queue.close();
  redis.disconnect();
};

type Drain = { perSecond: number; cpuUs: { consumer: number; redis: number; postgres: number } };

/** Times a consumer from its first job taken to the last one done, by watching the lists. */
const timeDrain = async (prefix: string, start: () => Promise<Service>): Promise<Drain> => {
  const redis = new Redis(REDIS_URL);
  const waiting = `${prefix}:${EVENTS_QUEUE}:wait`;
  const remaining = async () =>
    (await redis.llen(waiting)) + (await redis.llen(`${prefix}:${EVENTS_QUEUE}:active`));
  const consumer = await start();
  try {
    // The clock starts when the first job leaves the waiting list: start-up is not counted.
    await until(async () => (await redis.llen(waiting)) < EVENTS, {
      timeoutMs: 30_000,
      intervalMs: 2,
      message: "first job taken",
    });
    const started = performance.now();
    const cpu = cpuMeter({ consumer: () => [consumer.child.pid], ...SERVER_PROCESSES });
    const before = EVENTS - (await remaining());
    await until(async () => (await remaining()) === 0, {
      timeoutMs: 300_000,
      intervalMs: 10,
      message: "queue drained",
    });
    const seconds = (performance.now() - started) / 1000;
    const used = cpu();
    const drained = EVENTS - before;
    // CPU µs per event: share of a core × seconds / events.
    const perEvent = (percent: number) => Math.round((percent * seconds * 10_000) / drained);
    return {
      perSecond: Math.round(drained / seconds),
      cpuUs: {
        consumer: perEvent(used.consumer),
        redis: perEvent(used.redis),
        postgres: perEvent(used.postgres),
      },
    };
  } finally {
    await stopAll(consumer);
    redis.disconnect();
  }
};

const noop = (prefix: string, setting: NoopSetting) =>
  startBenchServer("noop-worker", {
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(setting.concurrency),
    WRITE_TOGETHER: setting.writes === "together" ? "1" : "0",
  });

/** The service's own worker defaults, which the store floor runs at too. */
const defaults = loadConfig({});

/** The store floor: the service's worker settings, each batch only inserted (bare-project.ts). */
const storeFloor = (prefix: string) =>
  startBenchServer("bare-project", {
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(defaults.workerConcurrency),
    WORKER_BATCH_SIZE: String(defaults.workerBatchSize),
  });

const describe = (name: string, d: Drain) =>
  `  ${name.padEnd(30)} ${d.perSecond} events/s  CPU µs per event: consumer ${d.cpuUs.consumer}, Redis ${d.cpuUs.redis}, Postgres ${d.cpuUs.postgres}`;

/**
 * EVENTS queued events drained into Postgres by seam-projector's worker role (its defaults),
 * against a BullMQ worker whose processor does nothing, at its best concurrency (the ceiling).
 */
const floorIs = `the store floor: the service's worker and batcher (${defaults.workerConcurrency} jobs in hand, batches of ${defaults.workerBatchSize}), one insert of ids and bodies per batch (bench/servers/bare-project.ts)`;

export const benchProjection = async (rounds: number): Promise<Record<string, Figure>> => {
  const prefix = `bench-projection-${randomBytes(4).toString("hex")}`;
  const ceiling: Drain[] = [];
  const floor: Drain[] = [];
  const ours: Drain[] = [];
  /** The setting of each round's best no-op drain. */
  const bestAt: NoopSetting[] = [];
  try {
    for (let round = 1; round <= rounds; round += 1) {
      progress(`projection: round ${round} of ${rounds}, ${EVENTS} events`);
      // Every round tries every concurrency: which one is best moves with this machine's noise
      // (64 in one round, 256 in the next), and a ceiling picked in an earlier round was beaten
      // by the store floor, which does more.
      let roundBest: { drain: Drain; setting: NoopSetting } | undefined;
      for (const writes of NOOP_WRITES) {
        for (const concurrency of NOOP_CONCURRENCIES) {
          const setting = { concurrency, writes };
          await fillQueue(prefix);
          const drain = await timeDrain(prefix, () => noop(prefix, setting));
          progress(describe(`no-op worker, ${settingName(setting)}`, drain));
          if (roundBest === undefined || drain.perSecond > roundBest.drain.perSecond) {
            roundBest = { drain, setting };
          }
        }
      }
      if (roundBest === undefined) throw new Error("no no-op setting to try");
      ceiling.push(roundBest.drain);
      bestAt.push(roundBest.setting);
      await resetTables(DATABASE_URL);
      await fillQueue(prefix);
      const stored = await timeDrain(prefix, () => storeFloor(prefix));
      floor.push(stored);
      progress(describe("store floor", stored));
      // The same tables every round: an events table grown by the rounds before would make each
      // round slower than the last.
      await resetTables(DATABASE_URL);
      await fillQueue(prefix);
      const worker = await timeDrain(prefix, () =>
        startOurs(
          "worker",
          { ROLE: "worker", QUEUE_PREFIX: prefix },
          profileArgs("PROFILE_WORKER"),
        ),
      );
      ours.push(worker);
      progress(describe("seam-projector worker", worker));
    }
  } finally {
    await dropPrefix(prefix);
  }
  return {
    projection_events_per_second: figure({
      unit: `events/s, ${EVENTS} queued events drained into Postgres (worker role, its defaults)`,
      ours: ours.map((d) => d.perSecond),
      ceiling: {
        values: ceiling.map((d) => d.perSecond),
        is: `a BullMQ worker doing nothing, at its best concurrency in each round (${bestAt.map(settingName).join("/")}, of ${NOOP_CONCURRENCIES.join(", ")}, each with its writes apart and together)`,
      },
      goal: { text: "ratio >= 0.65", met: (_, r) => (r ?? 0) >= 0.65 },
    }),
    projection_store_floor_events_per_second: figure({
      unit: `events/s of ${floorIs}, against the no-op worker: the best a worker that completes a job once its event is stored reaches here`,
      ours: floor.map((d) => d.perSecond),
      ceiling: { values: ceiling.map((d) => d.perSecond), is: "the no-op worker" },
      note: `CPU µs per event: worker ${floor.map((d) => d.cpuUs.consumer).join("/")}, Redis ${floor.map((d) => d.cpuUs.redis).join("/")}, Postgres ${floor.map((d) => d.cpuUs.postgres).join("/")}, by round`,
    }),
    projection_events_per_second_of_floor: figure({
      unit: "events/s against the store floor: what the projection itself (parse, schema check, evolve, row locks, readiness, metrics) leaves of it",
      ours: ours.map((d) => d.perSecond),
      ceiling: { values: floor.map((d) => d.perSecond), is: floorIs },
    }),
    projection_cpu_us_per_event: figure({
      unit: "µs of the worker's CPU per event (Redis and Postgres beside it in the note)",
      ours: ours.map((d) => d.cpuUs.consumer),
      ceiling: { values: ceiling.map((d) => d.cpuUs.consumer), is: "the no-op worker" },
      note: `Redis ${ours.map((d) => d.cpuUs.redis).join("/")} µs, Postgres ${ours.map((d) => d.cpuUs.postgres).join("/")} µs per event, by round`,
    }),
  };
};
