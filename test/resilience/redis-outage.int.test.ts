import { afterAll, expect, test } from "vitest";
import { replay } from "../../src/replay/replay.js";
import { signBody } from "../../src/replay/sign.js";
import { useHarness } from "../helpers/harness.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { type RedisServer, startRedisServer } from "../helpers/redis.js";
import { scenarioFixture } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: Redis dies (SIGKILL) while webhooks arrive, and comes back with its data, as a Redis
 * with AOF and `appendfsync always` does. CONTRACT §3: a 2xx only once the event is durable, a
 * 503 within 2 s otherwise, so that with Svix's retries nothing is lost.
 */
let redis: RedisServer | undefined;
// Registered first, so it runs last: the service stops before its Redis does.
afterAll(() => redis?.close());
// One ROLE=all process (the default deployment) on a redis-server of the drill's own.
const harness = useHarness(
  async () => {
    redis = await startRedisServer({ persistent: true });
    return { redisUrl: redis.url };
  },
  { flavour: "process" },
);
const drill = () => {
  const { service, secret, queue, database } = harness();
  if (redis === undefined) throw new Error("started in beforeAll");
  return { service, webhookUrl: service.webhookUrl, secret, queue, sql: database.sql, redis };
};

/** One signed delivery of `body`, timed, as Svix sends it. */
const deliver = async (body: string) => {
  const { webhookUrl, secret } = drill();
  const started = performance.now();
  const response = await fetch(webhookUrl, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...signBody(secret, body) },
    signal: AbortSignal.timeout(10_000),
  });
  return { response, elapsedMs: performance.now() - started };
};

test("Redis killed while webhooks arrive: 503 within 2 s, the API stays up, no event lost", {
  timeout: 90_000,
}, async () => {
  const { service, webhookUrl, secret, queue, sql, redis: server } = drill();
  const fixture = scenarioFixture(40);
  const [first] = fixture;
  if (first === undefined) throw new Error("empty fixture");
  let progress = { accepted: 0, failed: 0 };
  // One try per delivery and a 2 s deadline: a delivery that is not answered 202 or 503 within
  // 2 s shows up as a failure without a status, which the assertions below reject.
  const firstPass = replay(fixture, {
    url: webhookUrl,
    secret,
    rate: 200,
    concurrency: 8,
    retry: { attempts: 1 },
    requestTimeoutMs: 2000,
    onProgress: ({ accepted, failed }) => {
      progress = { accepted, failed };
    },
  });

  await waitFor(() => progress.accepted >= 150, { message: "deliveries accepted before" });
  const acceptedBefore = progress.accepted;
  await server.stop("SIGKILL");

  // The process stays up and says what is wrong; a delivery is refused fast, in the envelope.
  const down = await service.health();
  expect(down.healthz).toBe(200);
  expect(down.readyz).toBe(503);
  expect(down.checks.redis).toMatch(/^fail/);
  expect(down.checks.postgres).toBe("ok");
  const refused = await deliver(first.body);
  expect(refused.response.status).toBe(503);
  expect(refused.response.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(await refused.response.json()).toEqual({
    error: { code: "queue_unavailable", message: expect.any(String) },
  });
  expect(refused.elapsedMs).toBeLessThan(2000);
  // Deliveries go on being refused for a while before Redis comes back.
  await waitFor(() => progress.failed >= 100, { message: "deliveries refused while down" });
  await server.start();

  const summary = await firstPass;
  expect(summary.accepted).toBeGreaterThan(acceptedBefore);
  expect(summary.failed).toBeGreaterThanOrEqual(100);
  expect(summary.accepted + summary.failed).toBe(fixture.length);
  // Every refusal was a 503 queue_unavailable answered within the 2 s deadline.
  expect(summary.failures.filter((f) => !/^503 queue_unavailable/.test(f.message))).toEqual([]);

  // Svix retries what was refused; the same process takes them once Redis is back.
  await waitFor(async () => (await service.health()).readyz === 200, {
    timeoutMs: 15_000,
    message: "readyz again once Redis is back",
  });
  const refusedIds = new Set(summary.failures.map((failure) => failure.eventId));
  const resent = await replay(
    fixture.filter((event) => refusedIds.has(event.eventId)),
    { url: webhookUrl, secret },
  );
  expect(resent).toMatchObject({ accepted: refusedIds.size, failed: 0 });

  // Jobs that were active at the kill come back once their lock expires; all must land.
  await waitFor(
    async () => (await queue.drained()) && (await countEvents(sql)) === fixture.length,
    { timeoutMs: 45_000, intervalMs: 200, message: "every event projected" },
  );
  await expectProjectionOf(sql, fixture);
  expect((await queue.counts()).failed).toBe(0);
  expect(service.process?.child.exitCode).toBeNull();
});
