import { afterAll, expect, test } from "vitest";
import { replay } from "../../src/replay/replay.js";
import type { ServiceProcess } from "../helpers/process.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import {
  loadFixture,
  spawnProjectorProcess,
  useProjectionHarness,
} from "../helpers/projector-service.js";
import { waitFor } from "../helpers/wait-for.js";

// The API in this process; the workers are processes of their own, as an operator runs them.
const harness = useProjectionHarness({ role: "api" });
const workers: ServiceProcess[] = [];

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

/** A worker process (ROLE=worker) as an operator runs it, once it consumes. */
const startWorker = async () => {
  const worker = await spawnProjectorProcess(harness().envFor("worker"));
  workers.push(worker);
  return worker;
};

afterAll(async () => {
  for (const worker of workers) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill("SIGKILL");
      await worker.exited;
    }
  }
});

test("a worker killed with SIGKILL mid-replay: a new worker loses nothing and applies nothing twice", {
  timeout: 90_000,
}, async () => {
  const { database, queue, secret, service: api } = harness();
  const fixture = await loadFixture("identities.jsonl");
  const first = await startWorker();

  // Paced so that the replay still has events to send when the kill lands.
  const replaying = replay(fixture, { url: api.webhookUrl, secret, rate: 80, concurrency: 4 });
  await waitFor(async () => (await countEvents(database.sql)) >= fixture.length / 4, {
    timeoutMs: 20_000,
    message: "a quarter of the fixture projected",
  });
  // Freeze the worker until it is caught holding jobs, so the kill always leaves work in hand:
  // a job finishes in milliseconds, and a kill between two jobs would test nothing.
  await waitFor(
    async () => {
      first.child.kill("SIGSTOP");
      if ((await queue.counts()).active > 0) return true;
      first.child.kill("SIGCONT");
      return false;
    },
    { timeoutMs: 20_000, intervalMs: 1, message: "worker caught with jobs in hand" },
  );
  first.child.kill("SIGKILL");
  await first.exited;
  const inHand = (await queue.counts()).active;
  const atKill = await writesSoFar();
  const summary = await replaying;

  expect(summary).toMatchObject({ accepted: fixture.length, failed: 0 });
  const eventsAtKill = [...atKill.keys()].filter((key) => key.startsWith("event/")).length;
  expect(eventsAtKill).toBeGreaterThan(0);
  expect(eventsAtKill).toBeLessThan(fixture.length);
  expect(inHand).toBeGreaterThan(0);

  await startWorker();
  await waitFor(async () => (await queue.counts()).completed === fixture.length, {
    timeoutMs: 45_000,
    intervalMs: 100,
    message: "every job completed by the new worker",
  });
  await expectProjectionOf(database.sql, fixture);
  expect(await queue.counts()).toMatchObject({ failed: 0, active: 0, waiting: 0, delayed: 0 });
  // Applied once: a row written before the kill was not written again by the re-run of the job
  // that was in hand (its event id was already recorded, so the re-run changed nothing).
  const after = await writesSoFar();
  const rewritten = [...atKill].filter(([key, stamp]) => {
    const now = after.get(key);
    return now !== undefined && now.split("@")[0] === stamp.split("@")[0] && now !== stamp;
  });
  expect(rewritten).toEqual([]);
});
