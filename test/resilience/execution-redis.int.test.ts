import { afterAll, expect, it } from "vitest";
import type { Readiness } from "../../src/shared/readiness.js";
import { expectError, TEST_TOKEN } from "../helpers/client.js";
import { heldAnswer, ONLY, useExecutions } from "../helpers/execution.js";
import { type RedisServer, startRedisServer } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill (CONTRACT §5, §8; issue 15): Redis cannot take the Seam calls at the moment of POST
 * `execute: true`, gone (SIGKILL) or hung (SIGSTOP). The answer is a 503 with Retry-After,
 * never a 500 nor a request left hanging, and a POST once Redis is back queues the calls.
 */
let redis: RedisServer | undefined;
// Registered first, so it runs last: the service stops before its Redis does.
afterAll(async () => {
  const pid = redis?.process?.child.pid;
  if (pid !== undefined) process.kill(pid, "SIGCONT");
  await redis?.close();
});
const { start } = useExecutions(async () => {
  redis = await startRedisServer({ persistent: true });
  return { redisUrl: redis.url };
});

const server = () => {
  if (redis === undefined) throw new Error("started in beforeAll");
  return redis;
};

/** POST `execute: true`, bounded so that a request left hanging fails the test. */
const executeWithin = (url: string, identityId: string) =>
  fetch(`${url}/v1/user_identities/${identityId}/deletion`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ execute: true }),
    signal: AbortSignal.timeout(10_000),
  });

const expectUnavailable = async (response: Response) => {
  expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
  await expectError(response, 503, "service_unavailable");
};

const runOutage = async (
  takeAway: (redis: RedisServer) => Promise<void>,
  bringBack: (redis: RedisServer) => Promise<void>,
) => {
  const { sim, service, waitEnded } = await start();
  const identity = sim.seedIdentity({ ...ONLY, clientSessions: 1, phones: 1 });
  const id = identity.user_identity_id;
  await takeAway(server());
  let back = false;
  const comeBack = async () => {
    if (back) return;
    back = true;
    await bringBack(server());
  };
  try {
    await expectUnavailable(await executeWithin(service.url, id));
    // Recorded, with nothing called in Seam: its calls never reached the queue.
    expect((await service.readiness(id)).deletion?.execution?.status).toBe("running");
    expect(sim.deleteCalls(identity.client_session_ids[0] as string)).toBe(0);
  } finally {
    await comeBack();
  }
  await waitFor(async () => (await service.health()).readyz === 200, {
    timeoutMs: 15_000,
    message: "readyz once Redis is back",
  });
  const again = await executeWithin(service.url, id);
  expect(again.status).toBe(200);
  expect(((await again.json()) as Readiness).deletion?.execution?.status).toBe("running");
  const ended = await waitEnded(id);
  expect(ended.deletion?.execution?.status).toBe("completed");
  expect(sim.deleteCalls(identity.client_session_ids[0] as string)).toBe(1);
  expect(sim.deleteCalls(identity.phone_ids[0] as string)).toBe(1);
};

it("Redis gone at the POST: 503, and a POST once it is back queues the calls", {
  timeout: 60_000,
}, async () => {
  await runOutage(
    (redis) => redis.stop("SIGKILL"),
    (redis) => redis.start(),
  );
});

it("Redis hung at the POST: 503 in time, not a request left hanging", {
  timeout: 60_000,
}, async () => {
  const pid = () => {
    const value = server().process?.child.pid;
    if (value === undefined) throw new Error("redis-server is not running");
    return value;
  };
  await runOutage(
    async () => void process.kill(pid(), "SIGSTOP"),
    async () => void process.kill(pid(), "SIGCONT"),
  );
});

it("Redis gone once a Seam answer is recorded: the call's job, run again, queues what follows", {
  timeout: 90_000,
}, async () => {
  const { sim, service } = await start();
  const identity = sim.seedIdentity({ ...ONLY, clientSessions: 1, phones: 1 });
  const id = identity.user_identity_id;
  const session = heldAnswer();
  sim.fault("/client_sessions/delete", session.fault);
  // No client_session.deleted follows (it is not awaited): no projected event queues anew.
  sim.drop(identity.client_session_ids[0] as string);
  expect((await executeWithin(service.url, id)).status).toBe(201);
  await waitFor(() => sim.calls("/client_sessions/delete").length === 1, {
    message: "the session's delete",
  });
  await server().stop("SIGKILL");
  // The answer is recorded and the step moves on in Postgres; queueing the phone's call fails.
  session.release();
  await waitFor(async () => (await service.readiness(id)).deletion?.execution?.step === "phones", {
    message: "the session's answer recorded",
  });
  await server().start();
  const response = await service.waitDeletion(id, 60);
  const ended = (await response.json()) as Readiness;
  expect(ended.deletion?.execution?.status).toBe("completed");
  expect(sim.deleteCalls(identity.phone_ids[0] as string)).toBe(1);
});
