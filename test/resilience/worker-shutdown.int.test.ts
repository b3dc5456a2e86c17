import { expect, test } from "vitest";
import { useHarness } from "../helpers/harness.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { scenarioFixture } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: a worker process told to stop (SIGTERM, as an orchestrator does on a deploy) while it
 * projects. It must finish the jobs in hand and exit 0 within its deadline, leaving nothing
 * half done; and when something keeps it from finishing, the deadline must still end it, and
 * the jobs it held must come back to the next worker. CONTRACT §6.
 */
const drill = useHarness({}, false);
/** One more worker process (ROLE=worker), as an orchestrator starts it, once it consumes. */
const startWorker = (env: Record<string, string> = {}) => drill().spawn({ role: "worker", env });

test("SIGTERM mid-projection: the jobs in hand finish, the process exits 0, the next worker does the rest", {
  timeout: 90_000,
}, async () => {
  const { database, queue } = drill();
  const fixture = scenarioFixture(200); // 4,000 events
  await queue.add(fixture);
  const first = await startWorker();
  await waitFor(async () => (await countEvents(database.sql)) >= 500, {
    timeoutMs: 30_000,
    message: "projection under way",
  });
  first.process.child.kill("SIGTERM");
  expect(await first.process.exited).toBe(0);
  expect(first.process.output()).toContain('"msg":"stopped"');

  // Nothing held and nothing half done: every event in Postgres is a completed job.
  const counts = await queue.counts();
  expect(counts).toMatchObject({ active: 0, failed: 0 });
  expect(counts.completed).toBeGreaterThanOrEqual(500);
  expect(counts.completed).toBeLessThan(fixture.length);
  expect(await countEvents(database.sql)).toBe(counts.completed);

  const second = await startWorker();
  await waitFor(async () => (await queue.counts()).completed === fixture.length, {
    timeoutMs: 45_000,
    intervalMs: 200,
    message: "the next worker projects the rest",
  });
  await second.stop("SIGTERM");
  await expectProjectionOf(database.sql, fixture);
});

test("a stop that cannot finish (its transaction blocked) ends at SHUTDOWN_TIMEOUT_MS, and loses nothing", {
  timeout: 90_000,
}, async () => {
  const { database, queue } = drill();
  const fixture = scenarioFixture(20);
  const before = (await queue.counts()).completed;
  // Hold the resources table so the worker's next batch blocks inside its transaction.
  const blocker = await database.sql.reserve();
  await blocker`begin`;
  await blocker`lock table resources in access exclusive mode`;
  try {
    const worker = await startWorker({ SHUTDOWN_TIMEOUT_MS: "1500" });
    await queue.add(fixture);
    await waitFor(async () => (await queue.counts()).active > 0, { message: "a batch in hand" });
    const signalled = Date.now();
    worker.process.child.kill("SIGTERM");
    expect(await worker.process.exited).toBe(1);
    const took = Date.now() - signalled;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(6000);
    expect(worker.process.output()).toContain("shutdown deadline passed");
    // It names the part it was waiting for: the projector, its batch blocked.
    expect(worker.process.output()).toContain('"closing":"worker: projector"');
  } finally {
    await blocker`rollback`;
    blocker.release();
  }
  // The dead worker's jobs come back once their lock expires, and are projected once.
  await startWorker();
  await waitFor(async () => (await queue.counts()).completed === before + fixture.length, {
    timeoutMs: 45_000,
    intervalMs: 200,
    message: "the held jobs re-run by the next worker",
  });
  expect((await queue.counts()).failed).toBe(0);
});
