import { expect, test } from "vitest";
import { startSeamSim } from "../../sim/server.js";
import type { Readiness } from "../../src/shared/readiness.js";
import { heldAnswer, resourceIdsOf } from "../helpers/execution.js";
import { useHarness } from "../helpers/harness.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Drill (CONTRACT §8, crash-safe): the worker process is SIGKILLed while a Seam delete is in
 * its hands, and again at a random moment of the next steps; a new worker is started each
 * time, as an orchestrator would. Every execution completes, and no resource is deleted more
 * than twice (the delete in hand may be repeated once; nothing of an earlier step is).
 */
const harness = useHarness({ env: { EXECUTION_EVENT_TIMEOUT_MS: "2000" } }, false);

test("the worker SIGKILLed mid-call and mid-step: every execution completes, no resource deleted more than twice", {
  timeout: 120_000,
}, async () => {
  const sim = await startSeamSim({ deleteDelayMs: [5, 60], seed: 7 });
  try {
    const { start, spawn } = harness();
    const api = await start({ role: "api", seam: sim });
    sim.setWebhookTarget({ url: api.webhookUrl, secret: api.secret });
    const identities = Array.from({ length: 10 }, () =>
      sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2 }),
    );
    const held = heldAnswer();
    sim.fault("/acs/credentials/delete", held.fault);
    let worker = await spawn({ role: "worker", seam: sim });
    for (const identity of identities) {
      const response = await api.call(
        "POST",
        `/v1/user_identities/${identity.user_identity_id}/deletion`,
        { execute: true },
      );
      expect(response.status).toBe(201);
    }
    // A credential delete is in the worker's hands, held by Seam: kill it there.
    await waitFor(() => sim.calls("/acs/credentials/delete").length >= 1, {
      timeoutMs: 20_000,
      message: "a credential delete in hand",
    });
    await worker.stop("SIGKILL");
    held.release();
    worker = await spawn({ role: "worker", seam: sim });
    // And once more, at a random moment of the later steps: after this many ACS user deletes
    // (drawn once, and named in the wait's message so that a failure can be run again).
    const killAfter = 1 + Math.floor(Math.random() * 8);
    await waitFor(() => sim.calls("/acs/users/delete").length >= killAfter, {
      timeoutMs: 40_000,
      message: `${killAfter} ACS user deletes`,
    });
    await worker.stop("SIGKILL");
    worker = await spawn({ role: "worker", seam: sim });

    const ends = await Promise.all(
      identities.map(async (identity) => {
        const response = await api.waitDeletion(identity.user_identity_id, 60);
        return ((await response.json()) as Readiness).deletion?.execution?.status;
      }),
    );
    expect(ends).toEqual(identities.map(() => "completed"));
    const resources = identities.flatMap(resourceIdsOf);
    const counts = resources.map((id) => sim.deleteCalls(id));
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
  } finally {
    await sim.close();
  }
});
