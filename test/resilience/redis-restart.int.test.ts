import { afterAll, describe, expect, test } from "vitest";
import { createHarness } from "../helpers/harness.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { startRedisServer } from "../helpers/redis.js";
import { buildIdentityScenario, fixtureOf } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: Redis restarts while a worker process waits for jobs, idle on a blocking read. The
 * worker must consume again by itself, with no restart of its own: an operator restarting Redis
 * should not have to restart every worker too. Both a restart that keeps the data and one that
 * comes back empty (a replacement server) are drilled.
 */
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.each([
  { persistent: true, comesBack: "with its data" },
  { persistent: false, comesBack: "empty" },
])("Redis restarted under an idle worker, back $comesBack", ({ persistent }) => {
  test("the worker consumes again by itself", { timeout: 60_000 }, async () => {
    const redis = await startRedisServer({ persistent });
    cleanups.push(() => redis.close());
    const harness = await createHarness({ redisUrl: redis.url });
    cleanups.push(() => harness.close());
    const { database, queue } = harness;
    const worker = await harness.spawn({ role: "worker" });
    const pid = worker.process.child.pid;

    // Deletion events only, so that each alone has a known projected state.
    const [before, after] = fixtureOf(buildIdentityScenario().deletionEvents.slice(0, 2));
    if (before === undefined || after === undefined) throw new Error("scenario too small");
    await queue.add([before]);
    await waitFor(async () => (await countEvents(database.sql)) === 1 && (await queue.drained()), {
      message: "first event projected, worker idle",
    });

    await redis.stop("SIGTERM");
    await waitFor(async () => (await worker.health()).readyz === 503, {
      message: "worker readyz failing while Redis is down",
    });
    const down = await worker.health();
    expect(down.healthz).toBe(200);
    expect(down.checks.redis).toMatch(/^fail/);
    await redis.start();

    await queue.add([after]);
    await waitFor(async () => (await countEvents(database.sql)) === 2, {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: "event queued after the restart projected",
    });
    await expectProjectionOf(database.sql, [before, after]);
    await waitFor(async () => (await worker.health()).readyz === 200, {
      message: "worker readyz again",
    });
    // The same process did it: never restarted, still running.
    expect(worker.process.child.pid).toBe(pid);
    expect(worker.process.child.exitCode).toBeNull();
  });
});
