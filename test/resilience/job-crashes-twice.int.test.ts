import { expect, test } from "vitest";
import { jobIdFor } from "../../src/ingest/queue.js";
import { useHarness } from "../helpers/harness.js";
import { expectProjectionOf } from "../helpers/projection.js";
import { buildIdentityScenario, fixtureOf } from "../helpers/scenario.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill: the worst moment of a crash loop. One job is in a worker's hands when it is killed,
 * and again in the next worker's hands when that one is killed too. A job is idempotent (its
 * event id is recorded once), so being run again is harmless, and it must still complete:
 * BullMQ's default would fail it for good at its second stall.
 */
const drill = useHarness({}, false);
/** One more worker process (ROLE=worker), as an orchestrator starts it, once it consumes. */
const startWorker = (env: Record<string, string> = {}) => drill().spawn({ role: "worker", env });

test("a job in hand at two crashes in a row is recovered both times and completes", {
  timeout: 90_000,
}, async () => {
  const { database, queue } = drill();
  const [deletion] = buildIdentityScenario().deletionEvents;
  if (deletion?.event_type !== "client_session.deleted") throw new Error("scenario changed");
  const sessionId = deletion.client_session_id as string;
  const fixture = fixtureOf([deletion]);

  // The test holds the resource's row lock, so a worker that takes the job blocks inside its
  // batch with the job in hand for as long as the test wants.
  await database.sql`
    insert into resources (resource_type, resource_id, state)
    values ('client_session', ${sessionId}, 'unknown')`;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const holding = database.sql.begin(async (tx) => {
    await tx`
      select 1 from resources
      where resource_type = 'client_session' and resource_id = ${sessionId} for update`;
    await released;
  });

  await queue.add(fixture);
  const [queued] = fixture;
  const jobId = jobIdFor(deletion.event_id, queued?.body ?? "");
  /** The job is in a worker's hands, after `stalls` recoveries from a dead worker. */
  const inHandAfter = async (stalls: number) => {
    const job = await queue.queue.getJob(jobId);
    return (await job?.getState()) === "active" && job?.stalledCounter === stalls;
  };

  let worker = await startWorker();
  await waitFor(() => inHandAfter(0), { message: "job in the first worker's hands" });
  await worker.stop("SIGKILL");
  worker = await startWorker();
  // Its lock expires and a stalled check hands it back: lockDuration + stalledInterval or so.
  await waitFor(() => inHandAfter(1), {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: "job recovered into the second worker's hands",
  });
  await worker.stop("SIGKILL");
  await startWorker();
  release();
  await holding;

  const state = await waitFor(
    async () => {
      const current = await queue.queue.getJobState(jobId);
      return current === "completed" || current === "failed" ? current : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, message: "job finished after the second recovery" },
  );
  const job = await queue.queue.getJob(jobId);
  expect({ state, failedReason: job?.failedReason }).toEqual({
    state: "completed",
    failedReason: undefined,
  });
  expect(job?.stalledCounter).toBe(2);
  await expectProjectionOf(database.sql, fixture);
});
