import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Service } from "../../test/helpers/harness.js";
import { TEST_TOKEN } from "../../test/helpers/readiness.js";
import { type RedisServer, startRedisServer } from "../../test/helpers/redis.js";
import { EVENTS_QUEUE } from "../ingest/queue.js";
import { BOARD_PATH } from "./board.js";

const ADMIN_TOKEN = `admin-token-outage-${"x".repeat(8)}`;

/** Admin reads and writes that go to Redis. */
const ADMIN_CALLS: [method: string, path: string][] = [
  ["GET", "/admin/dead-letters"],
  ["GET", "/admin/dead-letters/some-job"],
  ["POST", "/admin/dead-letters/retry"],
  ["GET", `${BOARD_PATH}/api/queues?activeQueue=${EVENTS_QUEUE}`],
  ["PUT", `${BOARD_PATH}/api/queues/${EVENTS_QUEUE}/pause`],
];

/**
 * CONTRACT §6 and issue 14 item 5: with Redis hung (SIGSTOP: connected, never answering) or
 * gone (its port closed), the admin routes answer 503 service_unavailable with Retry-After
 * within 2 s, rather than hanging for as long as Redis does.
 */
describe("the admin routes while Redis cannot answer", () => {
  let redis: RedisServer;
  let harness: Harness;
  let service: Service;
  beforeAll(async () => {
    redis = await startRedisServer();
    harness = await createHarness({ redisUrl: redis.url });
    service = await harness.start({ role: "api", env: { ADMIN_TOKENS: ADMIN_TOKEN } });
  });
  afterAll(async () => {
    const pid = redis?.process?.child.pid;
    if (pid !== undefined) process.kill(pid, "SIGCONT");
    await harness?.close();
    await redis?.close();
  });

  const expectUnavailableInTime = async (reason: RegExp) => {
    for (const [method, path] of ADMIN_CALLS) {
      const started = performance.now();
      const response = await fetch(`${service.url}${path}`, {
        method,
        // Reads with an API token, writes with an admin token.
        headers: { authorization: `Bearer ${method === "GET" ? TEST_TOKEN : ADMIN_TOKEN}` },
        signal: AbortSignal.timeout(10_000),
      });
      const ms = performance.now() - started;
      const what = `${method} ${path}`;
      expect(response.status, what).toBe(503);
      expect(response.headers.get("retry-after"), what).toMatch(/^\d+$/);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code, what).toBe("service_unavailable");
      // Redis's own words (its address, the command) are for the log, not the client.
      expect(body.error.message, what).toMatch(reason);
      expect(ms, what).toBeLessThan(2000);
    }
  };

  it("answers first, as a baseline", async () => {
    const response = await fetch(`${service.url}/admin/dead-letters`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(response.status).toBe(200);
  });

  it("answers 503 within 2 s while Redis hangs", async () => {
    const pid = redis.process?.child.pid;
    if (pid === undefined) throw new Error("redis-server is not running");
    process.kill(pid, "SIGSTOP");
    try {
      await expectUnavailableInTime(
        /^queue unavailable: Redis did not answer in \d+ ms, retry later$/,
      );
    } finally {
      process.kill(pid, "SIGCONT");
    }
  });

  it("answers 503 within 2 s while Redis is down", async () => {
    await redis.stop("SIGKILL");
    await expectUnavailableInTime(/^queue unavailable: Redis is unavailable, retry later$/);
  });
});
