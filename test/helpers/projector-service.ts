import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { loadConfig, type Role } from "../../src/config.js";
import type { Sql } from "../../src/db/client.js";
import { addEvents, createEventsQueue, type EventSource } from "../../src/ingest/queue.js";
import { createLogger } from "../../src/log.js";
import { startService } from "../../src/main.js";
import { type FixtureEvent, readFixture } from "../../src/replay/fixture.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { type ServiceProcess, spawnService, stopService } from "./process.js";
import { dropPrefix, REDIS_URL, testPrefix } from "./redis.js";
import { waitFor } from "./wait-for.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures");

export const loadFixture = (name: string): Promise<FixtureEvent[]> =>
  readFixture(path.join(FIXTURES, name));

/** A webhook secret of this test's own, so no test passes by accident on the local default. */
export const createTestSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`;

/** The environment a service of this test runs with, in-process or as a child process. */
export const serviceEnv = (options: {
  databaseUrl: string;
  prefix: string;
  secret: string;
  role: Role;
  /** A private redis-server of the test's own; the shared one otherwise. */
  redisUrl?: string;
}): Record<string, string> => ({
  ROLE: options.role,
  PORT: "0",
  HOST: "127.0.0.1",
  DATABASE_URL: options.databaseUrl,
  DATABASE_POOL_SIZE: "4",
  REDIS_URL: options.redisUrl ?? REDIS_URL,
  QUEUE_PREFIX: options.prefix,
  SEAM_WEBHOOK_SECRET: options.secret,
  LOG_LEVEL: "silent",
});

/** seam-projector as main.ts builds it, in this process, on a free port of 127.0.0.1. */
const startTestService = async (options: Parameters<typeof serviceEnv>[0]) => {
  const config = loadConfig(serviceEnv(options));
  const service = await startService(config, createLogger(config.logLevel));
  return { ...service, webhookUrl: `${service.url}/webhooks/seam` };
};

/**
 * A handle on the test's queue, to see what BullMQ did with each job and to enqueue events the
 * way ingress does (same job ids and retry options) without going through HTTP.
 */
export const openEventsQueue = (prefix: string, redisUrl = REDIS_URL) => {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // A test may stop its private Redis under this handle: ioredis reconnects by itself.
  connection.on("error", () => {});
  const queue = createEventsQueue(connection, prefix);
  queue.on("error", () => {});
  return {
    queue,
    counts: async () => {
      const counts = await queue.getJobCounts(
        "completed",
        "failed",
        "active",
        "waiting",
        "delayed",
      );
      return {
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        active: counts.active ?? 0,
        waiting: counts.waiting ?? 0,
        delayed: counts.delayed ?? 0,
      };
    },
    /** True once no job is waiting, active or delayed for a retry. */
    drained: async () => {
      const counts = await queue.getJobCounts("active", "waiting", "delayed");
      return (counts.active ?? 0) + (counts.waiting ?? 0) + (counts.delayed ?? 0) === 0;
    },
    /** Queues a fixture's events, a thousand per round trip, as if each had just arrived. */
    add: async (fixture: FixtureEvent[], source: EventSource = "replay") => {
      const receivedAt = new Date().toISOString();
      for (let start = 0; start < fixture.length; start += 1000) {
        const chunk = fixture.slice(start, start + 1000);
        await addEvents(
          queue,
          chunk.map(({ body, eventId }) => ({ body, eventId, receivedAt, source })),
        );
      }
    },
    close: async () => {
      await queue.close();
      connection.disconnect();
      await dropPrefix(prefix, redisUrl);
    },
  };
};

type EventsQueueHandle = ReturnType<typeof openEventsQueue>;

/** What a service's `/healthz` and `/readyz` answer, with each readiness check's state. */
export const readHealth = async (url: string) => {
  const [healthz, readyz] = await Promise.all([fetch(`${url}/healthz`), fetch(`${url}/readyz`)]);
  const body = (await readyz.json()) as { checks: Record<string, string> };
  return { healthz: healthz.status, readyz: readyz.status, checks: body.checks };
};

/**
 * seam-projector as a child process that runs the projector (ROLE=worker or all), resolved once
 * it consumes and its /readyz says ready: the projector starts after the start-up migrations,
 * and its "info" log says so.
 */
export const spawnProjectorProcess = async (env: Record<string, string>) => {
  const service = await spawnService({ ...env, LOG_LEVEL: "info" });
  try {
    await waitFor(() => service.output().includes('"msg":"projector started"'), {
      timeoutMs: 20_000,
      message: "projector process consuming",
    });
    await waitFor(async () => (await readHealth(service.url)).readyz === 200, {
      timeoutMs: 20_000,
      message: "projector process ready",
    });
  } catch (error) {
    await stopService(service);
    throw new Error(`${String(error)}\n${service.output()}`);
  }
  return service;
};

/**
 * For a drill that kills workers: a database and queue prefix of the file's own, and worker
 * processes (ROLE=worker) started on demand, each stopped by its pid after the last test.
 */
export const useWorkerProcesses = () => {
  const prefix = testPrefix();
  const secret = createTestSecret();
  const workers: ServiceProcess[] = [];
  let state: { database: TestDatabase; queue: EventsQueueHandle } | undefined;
  beforeAll(async () => {
    state = { database: await createTestDatabase(), queue: openEventsQueue(prefix) };
  });
  afterAll(async () => {
    for (const worker of workers) await stopService(worker);
    await state?.queue.close();
    await state?.database.drop();
  });
  return () => {
    if (state === undefined) throw new Error("made in beforeAll");
    const { database, queue } = state;
    return {
      database,
      queue,
      startWorker: async (extraEnv: Record<string, string> = {}) => {
        const env = serviceEnv({ databaseUrl: database.url, prefix, secret, role: "worker" });
        const worker = await spawnProjectorProcess({ ...env, ...extraEnv });
        workers.push(worker);
        return worker;
      },
    };
  };
};

/** Where a drill's service finds Postgres and Redis, and how the drill reads and frees them. */
type DrillDependencies = {
  databaseUrl: string;
  /** The test's own connection to that database, to read the projection. */
  sql: Sql;
  /** A private redis-server of the drill's own; the shared one otherwise. */
  redisUrl?: string;
  close: () => Promise<void>;
};

/**
 * For a drill that takes a dependency away from a running service: one ROLE=all process (the
 * default deployment) on the dependencies `setUp` makes, a queue prefix and secret of its own,
 * and a handle on its queue; all of it stopped and dropped after the last test.
 */
export const useServiceProcess = (setUp: () => Promise<DrillDependencies>) => {
  const prefix = testPrefix();
  const secret = createTestSecret();
  let dependencies: DrillDependencies | undefined;
  let queue: EventsQueueHandle | undefined;
  let service: ServiceProcess | undefined;
  beforeAll(async () => {
    dependencies = await setUp();
    const { databaseUrl, redisUrl } = dependencies;
    queue = openEventsQueue(prefix, redisUrl);
    service = await spawnProjectorProcess(
      serviceEnv({ databaseUrl, prefix, secret, role: "all", ...(redisUrl ? { redisUrl } : {}) }),
    );
  });
  afterAll(async () => {
    await stopService(service);
    await queue?.close();
    await dependencies?.close();
  });
  return () => {
    if (dependencies === undefined || queue === undefined || service === undefined) {
      throw new Error("made in beforeAll");
    }
    return {
      service,
      webhookUrl: `${service.url}/webhooks/seam`,
      secret,
      queue,
      sql: dependencies.sql,
    };
  };
};

export const uniqueEventCount = (fixture: FixtureEvent[]): number =>
  new Set(fixture.map((event) => event.eventId)).size;

/**
 * What a projection test needs, all its own: a database, a queue prefix, a webhook secret, the
 * service in this process (ROLE=all unless told) and a read handle on the queue.
 */
export const createProjectionHarness = async (options: { role?: Role } = {}) => {
  const database = await createTestDatabase();
  const prefix = testPrefix();
  const secret = createTestSecret();
  const env = { databaseUrl: database.url, prefix, secret };
  const service = await startTestService({ ...env, role: options.role ?? "all" });
  const queue = openEventsQueue(prefix);
  return {
    database,
    service,
    queue,
    secret,
    /** The environment of another process of this service, e.g. a worker to spawn. */
    envFor: (role: Role) => serviceEnv({ ...env, role }),
    close: async () => {
      await service.close();
      await queue.close();
      await database.drop();
    },
  };
};

export type ProjectionHarness = Awaited<ReturnType<typeof createProjectionHarness>>;

/** One harness for every test of a file: made before the first, closed after the last. */
export const useProjectionHarness = (options: { role?: Role } = {}): (() => ProjectionHarness) => {
  let harness: ProjectionHarness | undefined;
  beforeAll(async () => {
    harness = await createProjectionHarness(options);
  });
  afterAll(async () => {
    await harness?.close();
  });
  return () => {
    if (harness === undefined) throw new Error("the harness is made in beforeAll");
    return harness;
  };
};
