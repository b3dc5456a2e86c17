import { describe, expect, it } from "vitest";
import { ONLY, useExecutions } from "../../test/helpers/execution.js";
import { createLogger } from "../log.js";
import { createMetrics } from "../metrics/metrics.js";
import { createSeamCalls } from "../seam/calls.js";
import type { Readiness } from "../shared/readiness.js";
import type { CallJob } from "./queue.js";
import { createCallRunner } from "./run-call.js";

/**
 * CONTRACT §8: a call Seam answers 429 or 5xx is retried, never sooner than Retry-After, for up
 * to 10 minutes; then the execution fails with seam_api_unavailable. The ten minutes pass on an
 * injected clock: an API-only service queues the execution's first call, and this test runs
 * that job itself through the runner the worker uses.
 */
describe("the retry window of a Seam call", () => {
  const { harness, start, callsQueue } = useExecutions({});

  it("retries after Retry-After, and fails seam_api_unavailable once 10 minutes have passed", async () => {
    const { sim, service: api, execute } = await start({}, {}, "api");
    const identity = sim.seedIdentity({ ...ONLY, clientSessions: 1 });
    expect((await execute(identity.user_identity_id)).status).toBe(201);
    const [data] = await callsQueue().waitingJobs();
    expect(data).toMatchObject({ action: "delete", type: "client_session" });
    const job = data as CallJob;

    let now = Date.parse("2026-12-01T12:00:00Z");
    const runner = createCallRunner({
      db: harness().database.sql,
      calls: createSeamCalls({ apiKey: sim.apiKey, endpoint: sim.url }),
      advance: { eventTimeoutMs: 300_000 },
      followUp: async () => {},
      metrics: createMetrics({ role: "test" }),
      log: createLogger("silent"),
      now: () => now,
    });
    const firstTriedAt = now;
    sim.fault(
      "/client_sessions/delete",
      { status: 429, retryAfter: "30" },
      { status: 503 },
      { status: 503 },
    );
    // Not sooner than Retry-After.
    const first = await runner.run(job, firstTriedAt);
    expect(first.kind).toBe("retry");
    expect(first.kind === "retry" && first.delayMs).toBeGreaterThanOrEqual(30_000);
    // Still inside the window: another retry.
    now += 9 * 60_000;
    expect((await runner.run({ ...job, retries: 1 }, firstTriedAt)).kind).toBe("retry");
    // Ten minutes after the first try: the execution fails, naming the unavailable Seam.
    now += 60_000;
    expect((await runner.run({ ...job, retries: 2 }, firstTriedAt)).kind).toBe("failed");
    const readiness = (await api.readiness(identity.user_identity_id)) as Readiness;
    expect(readiness.deletion?.execution).toMatchObject({
      status: "failed",
      step: "client_sessions",
      error: { code: "seam_api_unavailable" },
    });
    expect(sim.calls("/client_sessions/delete")).toHaveLength(3);
  });
});
