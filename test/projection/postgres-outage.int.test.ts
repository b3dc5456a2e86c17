import { setTimeout as pause } from "node:timers/promises";
import { describe, expect, onTestFinished, test } from "vitest";
import { replay } from "../../src/replay/replay.js";
import { adminSql, type TestDatabase } from "../helpers/postgres.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import {
  createProjectionHarness,
  loadFixture,
  type ProjectionHarness,
} from "../helpers/projector-service.js";
import { waitFor } from "../helpers/wait-for.js";

/** startService names its pool by role; ROLE=all holds the worker's connections. */
const WORKER_APPLICATION = "seam-projector-all";

const startProjection = async () => {
  const harness = await createProjectionHarness();
  const admin = adminSql();
  onTestFinished(async () => {
    await admin.unsafe(`alter database ${harness.database.name} allow_connections true`);
    await admin.end();
    await harness.close();
  });
  return { ...harness, admin };
};

/** Terminates the worker's backends, found by database and application name. */
const terminateWorkerBackends = async (admin: ReturnType<typeof adminSql>, db: TestDatabase) => {
  await admin`
    select pg_terminate_backend(pid) from pg_stat_activity
    where datname = ${db.name} and application_name = ${WORKER_APPLICATION}`;
};

const drained = async (queue: ProjectionHarness["queue"]) => {
  const counts = await queue.counts();
  return counts.active + counts.waiting + counts.delayed === 0;
};

describe("Postgres failing under the worker", () => {
  test("connections terminated again and again during a replay: nothing is lost", async () => {
    const { database, service, queue, secret, admin } = await startProjection();
    const fixture = await loadFixture("identities.jsonl");

    let replaying = true;
    let killedTotal = 0;
    const terminator = (async () => {
      // Pacing the terminations, not waiting for a condition: a kill every 20 ms meets
      // transactions in flight as well as idle connections.
      while (replaying) {
        await terminateWorkerBackends(admin, database);
        killedTotal += 1;
        await pause(20);
      }
    })();
    const summary = await replay(fixture, {
      url: service.webhookUrl,
      secret,
      rate: 150,
      concurrency: 4,
    });
    replaying = false;
    await terminator;

    expect(summary).toMatchObject({ accepted: fixture.length, failed: 0 });
    expect(killedTotal).toBeGreaterThan(10);
    await waitFor(
      async () => (await drained(queue)) && (await countEvents(database.sql)) === fixture.length,
      {
        timeoutMs: 30_000,
        message: "every event projected after the terminations",
      },
    );
    await expectProjectionOf(database.sql, fixture);
    expect(await queue.counts()).toMatchObject({ failed: 0, completed: fixture.length });
  });

  test("connections refused for a while: jobs fail, retry with backoff, and finish", async () => {
    const { database, service, queue, secret, admin } = await startProjection();
    const [first, ...rest] = await loadFixture("single-identity.jsonl");
    if (first === undefined) throw new Error("empty fixture");
    const fixture = [first, ...rest];
    // The projector starts once start-up migrations are done: see one event through first.
    await replay([first], { url: service.webhookUrl, secret });
    await waitFor(async () => (await countEvents(database.sql)) === 1, {
      message: "the worker running",
    });

    // No new connection is accepted, and the open ones are cut: Postgres is gone for the worker.
    await admin.unsafe(`alter database ${database.name} allow_connections false`);
    await terminateWorkerBackends(admin, database);
    const summary = await replay(rest, { url: service.webhookUrl, secret });
    expect(summary).toMatchObject({ accepted: rest.length, failed: 0 });
    await waitFor(async () => (await queue.counts()).delayed > 0, {
      message: "jobs waiting for a retry",
    });
    await admin.unsafe(`alter database ${database.name} allow_connections true`);

    await waitFor(async () => (await queue.counts()).completed === fixture.length, {
      timeoutMs: 30_000,
      message: "every job completed once Postgres is back",
    });
    const completed = await queue.queue.getCompleted();
    expect(Math.max(...completed.map((job) => job.attemptsMade))).toBeGreaterThan(1);
    expect((await queue.counts()).failed).toBe(0);
    await expectProjectionOf(database.sql, fixture);
  });
});
