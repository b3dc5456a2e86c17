import { expect, test } from "vitest";
import { planDeliveries, replay } from "../../src/replay/replay.js";
import { useHarness } from "../helpers/harness.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { loadFixture } from "../helpers/queue.js";
import { scenarioFixture } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: about 10,000 events projected while the worker process is killed with SIGKILL three times,
 * each time with jobs in its hands, a new worker started each time, as an orchestrator restarts
 * a crashed pod; meanwhile webhooks keep arriving over HTTP. Whatever a dead worker held comes
 * back once its lock expires; nothing may be lost, applied twice, or given up on.
 */
// 20 events each: with the 133 delivered over HTTP, just under the 10,000 completed jobs BullMQ
// keeps (removeOnComplete), so that every completion can be counted.
const IDENTITIES = 493;
// The API in this process; the workers are processes of their own, as an operator runs them.
const harness = useHarness({}, { role: "api" });

/**
 * Every row written so far, keyed by event or resource, with what wrote it and when: an event
 * row by its recorded_at, a resource by the event that set it and its updated_at.
 */
const writesSoFar = async (): Promise<Map<string, string>> => {
  const rows = await harness().database.sql<{ key: string; stamp: string }[]>`
    select 'event/' || event_id as key, event_id || '@' || recorded_at::text as stamp from events
    union all
    select resource_type || '/' || resource_id, coalesce(event_id, '') || '@' || updated_at::text
    from resources`;
  return new Map(rows.map((row) => [row.key, row.stamp]));
};

test("the worker SIGKILLed three times with jobs in hand, webhooks arriving: exact state, nothing applied twice", {
  timeout: 150_000,
}, async () => {
  const { database, queue, secret, service: api, spawn } = harness();
  // Shuffled, so that deletions often arrive before the events they end.
  const queued = planDeliveries(scenarioFixture(IDENTITIES), { shuffle: true }).map(
    (delivery) => delivery.event,
  );
  const delivered = await loadFixture("identities.jsonl");
  const total = queued.length + delivered.length;
  expect([queued.length, total]).toEqual([IDENTITIES * 20, 9_993]);
  // Enqueued straight into Redis, as ingress would, so the drill spends its time projecting.
  await queue.add(queued);
  // Paced so that deliveries are still arriving over HTTP while the workers die.
  const replaying = replay(delivered, { url: api.webhookUrl, secret, rate: 40, concurrency: 4 });

  // One kill at a random point of each of three bands, so that each worker projects a while.
  const killAt = [0.1, 0.35, 0.6].map((low) => Math.floor(total * (low + Math.random() * 0.2)));
  const kills: { target: number; projected: number; inHand: number }[] = [];
  const snapshots: Map<string, string>[] = [];
  let worker = await spawn({ role: "worker" });
  for (const target of killAt) {
    await waitFor(async () => (await countEvents(database.sql)) >= target, {
      timeoutMs: 30_000,
      intervalMs: 20,
      message: `${target} events projected before a kill`,
    });
    // Freeze the worker until it is caught holding jobs, so the kill always leaves work in
    // hand: a job finishes in milliseconds, and a kill between two jobs would test nothing.
    const frozen = worker;
    await waitFor(
      async () => {
        frozen.process.child.kill("SIGSTOP");
        if ((await queue.counts()).active > 0) return true;
        frozen.process.child.kill("SIGCONT");
        return false;
      },
      { timeoutMs: 20_000, intervalMs: 1, message: "worker caught with jobs in hand" },
    );
    await worker.stop("SIGKILL");
    const inHand = (await queue.counts()).active;
    snapshots.push(await writesSoFar());
    kills.push({ target, projected: await countEvents(database.sql), inHand });
    worker = await spawn({ role: "worker" });
  }

  const summary = await replaying;
  expect(summary).toMatchObject({ accepted: delivered.length, failed: 0 });
  await waitFor(async () => (await queue.counts()).completed === total, {
    timeoutMs: 75_000,
    intervalMs: 250,
    message: "every job completed after the kills",
  });
  // Each kill landed mid-projection, with jobs in the dead worker's hands.
  for (const kill of kills) {
    expect(kill.projected, JSON.stringify(kills)).toBeGreaterThan(0);
    expect(kill.projected, JSON.stringify(kills)).toBeLessThan(total);
    expect(kill.inHand, JSON.stringify(kills)).toBeGreaterThan(0);
  }
  await expectProjectionOf(database.sql, [...queued, ...delivered]);
  expect(await queue.counts()).toMatchObject({
    completed: total,
    failed: 0,
    active: 0,
    waiting: 0,
    delayed: 0,
  });
  // Applied once: a row written before a kill was not written again by the re-run of a job that
  // was in hand (its event id was already recorded, so the re-run changed nothing).
  const after = await writesSoFar();
  for (const atKill of snapshots) {
    const rewritten = [...atKill].filter(([key, stamp]) => {
      const now = after.get(key);
      return now !== undefined && now.split("@")[0] === stamp.split("@")[0] && now !== stamp;
    });
    expect(rewritten).toEqual([]);
  }
});
