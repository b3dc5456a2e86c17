import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A queue prefix of this test's own, so tests never see each other's jobs. */
export const testPrefix = (): string => `sp-test-${randomBytes(5).toString("hex")}`;

/** Deletes every key under a prefix (the queue's hashes, lists and streams). */
export const dropPrefix = async (prefix: string): Promise<void> => {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
};
