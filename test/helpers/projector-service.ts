import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { loadConfig, type Role } from "../../src/config.js";
import { EVENTS_QUEUE, type EventJob } from "../../src/ingest/queue.js";
import { createLogger } from "../../src/log.js";
import { startService } from "../../src/main.js";
import { type FixtureEvent, readFixture } from "../../src/replay/fixture.js";
import { createTestDatabase } from "./postgres.js";
import { dropPrefix, REDIS_URL, testPrefix } from "./redis.js";

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
}): Record<string, string> => ({
  ROLE: options.role,
  PORT: "0",
  HOST: "127.0.0.1",
  DATABASE_URL: options.databaseUrl,
  DATABASE_POOL_SIZE: "4",
  REDIS_URL,
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

/** A read-side handle on the test's queue, to see what BullMQ did with each job. */
const openEventsQueue = (prefix: string) => {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<EventJob>(EVENTS_QUEUE, { connection, prefix });
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
    close: async () => {
      await queue.close();
      connection.disconnect();
      await dropPrefix(prefix);
    },
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
