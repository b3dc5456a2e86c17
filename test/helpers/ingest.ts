import { pino } from "pino";
import { createApp } from "../../src/app.js";
import { createEnqueue } from "../../src/ingest/enqueue.js";
import { createEventsQueue } from "../../src/ingest/queue.js";
import { createVerifier } from "../../src/ingest/verify.js";
import { createProducerRedis } from "../../src/redis.js";
import { dropPrefix, REDIS_URL, testPrefix } from "./redis.js";

export const TEST_SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXNlYW0tcHJvamVjdG9y";

/**
 * The webhook route wired to a real BullMQ queue under a prefix of its own: what main.ts builds
 * for the API role, minus the server, so requests go through Hono's router in-process.
 */
export const createIngestHarness = (
  options: {
    secrets?: string[];
    redisUrl?: string;
    bodyLimitBytes?: number;
    timeoutMs?: number;
  } = {},
) => {
  const prefix = testPrefix();
  const redis = createProducerRedis(options.redisUrl ?? REDIS_URL);
  redis.on("error", () => {});
  const queue = createEventsQueue(redis, prefix);
  queue.on("error", () => {});
  const enqueuer = createEnqueue(queue, { timeoutMs: options.timeoutMs ?? 1500 });
  const now = () => new Date();
  const app = createApp({
    log: pino({ level: "silent" }),
    health: [],
    ingest: {
      verify: createVerifier(options.secrets ?? [TEST_SECRET], now),
      enqueue: enqueuer.enqueue,
      now,
      bodyLimitBytes: options.bodyLimitBytes ?? 256 * 1024,
    },
  });
  return {
    app,
    queue,
    prefix,
    close: async () => {
      await queue.close().catch(() => {});
      redis.disconnect();
      if (!options.redisUrl) await dropPrefix(prefix);
    },
  };
};
