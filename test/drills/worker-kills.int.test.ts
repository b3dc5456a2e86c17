import { expect, test } from "vitest";
import { planDeliveries } from "../../src/replay/replay.js";
import { killChild } from "../helpers/process.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { useWorkerProcesses } from "../helpers/projector-service.js";
import { scenarioFixture } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: 10,000 events projected while the worker process is killed with SIGKILL three times at
 * random moments, a new worker started each time, as an orchestrator restarts a crashed pod.
 * Whatever a dead worker held comes back once its lock expires; nothing may be lost, applied
 * wrongly, or given up on.
 */
const IDENTITIES = 500; // 20 events each
const drill = useWorkerProcesses();

test("10,000 events, the worker SIGKILLed three times: the final state is exact, no job failed", {
  timeout: 120_000,
}, async () => {
  const { database, queue, startWorker } = drill();
  // Shuffled, so that deletions often arrive before the events they end.
  const fixture = planDeliveries(scenarioFixture(IDENTITIES), { shuffle: true }).map(
    (delivery) => delivery.event,
  );
  const total = fixture.length;
  expect(total).toBe(10_000);
  // Enqueued straight into Redis, as ingress would, so the drill spends its time projecting.
  await queue.add(fixture);

  // One kill at a random point of each of three bands, so that each worker projects a while.
  const killAt = [0.1, 0.35, 0.6].map((low) => Math.floor(total * (low + Math.random() * 0.2)));
  const atKill: { target: number; projected: number; inHand: number }[] = [];
  let worker = await startWorker();
  for (const target of killAt) {
    await waitFor(async () => (await countEvents(database.sql)) >= target, {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: `${target} events projected before a kill`,
    });
    await killChild(worker, "SIGKILL");
    const projected = await countEvents(database.sql);
    atKill.push({ target, projected, inHand: (await queue.counts()).active });
    worker = await startWorker();
  }

  await waitFor(async () => (await queue.counts()).completed === total, {
    timeoutMs: 75_000,
    intervalMs: 250,
    message: "every job completed after the kills",
  });
  // Each kill landed mid-projection, with jobs in the dead worker's hands.
  for (const kill of atKill) {
    expect(kill.projected, JSON.stringify(atKill)).toBeLessThan(total);
    expect(kill.inHand, JSON.stringify(atKill)).toBeGreaterThan(0);
  }
  await expectProjectionOf(database.sql, fixture);
  expect(await queue.counts()).toMatchObject({
    completed: total,
    failed: 0,
    active: 0,
    waiting: 0,
    delayed: 0,
  });
});
