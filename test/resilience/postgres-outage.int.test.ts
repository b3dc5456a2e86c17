import { setTimeout as pause } from "node:timers/promises";
import { afterAll, expect, onTestFinished, test } from "vitest";
import { createPool, type Sql } from "../../src/db/client.js";
import { replay } from "../../src/replay/replay.js";
import { startHarness, useHarness } from "../helpers/harness.js";
import { adminSql, type PostgresServer, startPostgresServer } from "../helpers/postgres.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { loadFixture } from "../helpers/queue.js";
import { scenarioFixture } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: Postgres crashes (immediate shutdown of a cluster of the test's own) while webhooks
 * arrive and the worker projects them, stays down a while, and comes back through crash
 * recovery. Ingress needs only Redis, so every delivery is still accepted; the jobs that fail
 * meanwhile retry with backoff, and in the end each event is projected once.
 */
const DATABASE = "seam_projector_drill";
let server: PostgresServer | undefined;
let sql: Sql | undefined;
// Registered first, so they run last: the service stops before its Postgres does.
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await server?.close();
});
// One ROLE=all process (the default deployment). It creates and migrates its database at
// start-up, as a first `npm start` does.
const harness = useHarness(
  async () => {
    server = await startPostgresServer();
    // Lazy: it connects at its first query, once the service has created the database.
    sql = createPool(server.url(DATABASE), { max: 2, applicationName: "seam-projector-drill" });
    return { databaseUrl: server.url(DATABASE) };
  },
  { flavour: "process" },
);
const drill = () => {
  const { service, secret, queue } = harness();
  if (server === undefined || sql === undefined) throw new Error("started in beforeAll");
  return { service, webhookUrl: service.webhookUrl, secret, queue, sql, server };
};

test("Postgres down for a while under load: every job retries, every event projected once", {
  timeout: 90_000,
}, async () => {
  const { service, webhookUrl, secret, queue, sql, server } = drill();
  const fixture = scenarioFixture(60);
  let accepted = 0;
  // One try per delivery: ingress must accept without Postgres, not through a retry.
  const replaying = replay(fixture, {
    url: webhookUrl,
    secret,
    rate: 300,
    concurrency: 8,
    retry: { attempts: 1 },
    onProgress: (progress) => {
      accepted = progress.accepted;
    },
  });

  await waitFor(async () => (await countEvents(sql)) >= 200, {
    message: "projection under way",
  });
  await server.stop("SIGQUIT");
  const acceptedAtCrash = accepted;

  await waitFor(async () => (await service.health()).readyz === 503, {
    message: "readyz failing while Postgres is down",
  });
  const down = await service.health();
  expect(down.healthz).toBe(200);
  expect(down.checks.postgres).toMatch(/^fail/);
  // Down "for a while": jobs have failed and wait for a retry, and webhooks kept arriving.
  // A liveness wait, not a timing: 20 s leaves room for a machine busy with other test files.
  await waitFor(
    async () => {
      const { delayed } = await queue.counts();
      if (delayed > 0 && accepted >= acceptedAtCrash + 600) return true;
      // Thrown so that a timeout says which half was missing.
      throw new Error(
        `${delayed} jobs delayed, ${accepted - acceptedAtCrash} accepted since the crash`,
      );
    },
    { timeoutMs: 20_000, message: "jobs retrying and deliveries accepted while Postgres is down" },
  );
  await server.start();

  const summary = await replaying;
  expect(summary).toMatchObject({ accepted: fixture.length, failed: 0 });
  // Soon after Postgres is back, not whenever: the jobs' own retry delays are a few seconds at
  // this point, and the backlog takes about one. A driver slot still sleeping off its reconnect
  // backoff (postgres.js's default reaches 20 s) would hold its jobs, and their waiters, long
  // after Postgres is back.
  await waitFor(
    async () => (await queue.drained()) && (await countEvents(sql)) === fixture.length,
    {
      timeoutMs: 8000,
      intervalMs: 100,
      message: "every event projected within 8 s of the restart",
    },
  );
  // One row per event, each resource set by its own deletion event: nothing lost, none twice.
  await expectProjectionOf(sql, fixture);
  expect(await queue.counts()).toMatchObject({ failed: 0, completed: fixture.length });
  const completed = await queue.queue.getCompleted(0, fixture.length);
  expect(Math.max(...completed.map((job) => job.attemptsMade))).toBeGreaterThan(1);
  expect(service.process?.child.exitCode).toBeNull();
});

/** startService names its pool by role; ROLE=all holds the worker's connections. */
const WORKER_APPLICATION = "seam-projector-all";

test("connections terminated again and again during a replay: nothing is lost", async () => {
  // In this process, on the shared Postgres: only the worker's connections are cut.
  const { database, service, queue, secret, close } = await startHarness();
  const admin = adminSql();
  let replaying = true;
  let terminator: Promise<void> = Promise.resolve();
  onTestFinished(async () => {
    // A test that failed or timed out mid-replay leaves the loop below running: end it first,
    // or the close waits on connections it keeps terminating.
    replaying = false;
    await terminator;
    await admin.end();
    await close();
  });
  const fixture = await loadFixture("identities.jsonl");

  let killedTotal = 0;
  terminator = (async () => {
    // Pacing the terminations, not waiting for a condition: a kill every 20 ms meets
    // transactions in flight as well as idle connections.
    while (replaying) {
      const killed = await admin`
        select pg_terminate_backend(pid) as ended from pg_stat_activity
        where datname = ${database.name} and application_name = ${WORKER_APPLICATION}`;
      killedTotal += killed.filter((row) => row.ended === true).length;
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
    async () => (await queue.drained()) && (await countEvents(database.sql)) === fixture.length,
    { timeoutMs: 30_000, message: "every event projected after the terminations" },
  );
  await expectProjectionOf(database.sql, fixture);
  expect(await queue.counts()).toMatchObject({ failed: 0, completed: fixture.length });
});
