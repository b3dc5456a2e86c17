import { expect, test } from "vitest";
import { createPool } from "../../src/db/client.js";
import { replay } from "../../src/replay/replay.js";
import { type PostgresServer, startPostgresServer } from "../helpers/postgres.js";
import { countEvents, expectProjectionOf } from "../helpers/projection.js";
import { readHealth, useServiceProcess } from "../helpers/projector-service.js";
import { scenarioFixture } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: Postgres crashes (immediate shutdown of a cluster of the test's own) while webhooks
 * arrive and the worker projects them, stays down a while, and comes back through crash
 * recovery. Ingress needs only Redis, so every delivery is still accepted; the jobs that fail
 * meanwhile retry with backoff, and in the end each event is projected once.
 */
const DATABASE = "seam_projector_drill";
let server: PostgresServer;
const drill = useServiceProcess(async () => {
  server = await startPostgresServer();
  // Lazy: it connects at its first query, once the service has created the database.
  const sql = createPool(server.url(DATABASE), { max: 2, applicationName: "seam-projector-drill" });
  return {
    // The service creates and migrates its database at start-up, as a first `npm start` does.
    databaseUrl: server.url(DATABASE),
    sql,
    close: async () => {
      await sql.end({ timeout: 1 });
      await server.close();
    },
  };
});

test("Postgres down for a while under load: every job retries, every event projected once", {
  timeout: 90_000,
}, async () => {
  const { service, webhookUrl, secret, queue, sql } = drill();
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

  await waitFor(async () => (await readHealth(service.url)).readyz === 503, {
    message: "readyz failing while Postgres is down",
  });
  const down = await readHealth(service.url);
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
  expect(service.child.exitCode).toBeNull();
});
