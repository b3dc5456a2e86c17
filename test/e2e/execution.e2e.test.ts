import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SeamSim, startSeamSim } from "../../sim/server.js";
import type { Readiness } from "../../src/shared/readiness.js";
import { deletesIn, STEPWISE_ORDER } from "../helpers/execution.js";
import { type ProcessService, useHarness } from "../helpers/harness.js";
import { buildServer } from "../helpers/process.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * CONTRACT §8 on the built server (what the image runs, and what .ci/run runs again on Node
 * 24): `"execute": true` against the Seam simulator, both strategies, each answered by its
 * long-poll once the execution ends.
 */
describe("built server: the deletion executed in Seam", () => {
  const harness = useHarness({}, false);
  let sim: SeamSim;
  let service: ProcessService;

  beforeAll(async () => {
    sim = await startSeamSim({ cascade: true, deleteDelayMs: [5, 40] });
    service = await harness().spawn({ entry: buildServer(), seam: sim });
    sim.setWebhookTarget({ url: service.webhookUrl, secret: service.secret });
  });
  afterAll(async () => {
    await sim?.close();
  });

  for (const strategy of ["stepwise", "cascade"] as const) {
    it(`${strategy}: one POST, then the long-poll answers completed`, async () => {
      const identity = sim.seedIdentity();
      const deletesBefore = deletesIn(sim).length;
      const started = await service.call(
        "POST",
        `/v1/user_identities/${identity.user_identity_id}/deletion`,
        { execute: true, strategy },
      );
      expect(started.status).toBe(201);
      const ended = (await (
        await service.waitDeletion(identity.user_identity_id, 30)
      ).json()) as Readiness;
      expect(ended).toMatchObject({
        ready: true,
        blockers: [],
        deletion: { status: "ready", execution: { strategy, status: "completed", step: null } },
      });
      // Seam deletes the identity a moment after it answered the delete.
      await waitFor(() => !sim.exists("user_identity", identity.user_identity_id));
      // Cascade: one call, the identity's. Stepwise: every step's deletes, in order, the
      // identity's last.
      const paths = deletesIn(sim)
        .slice(deletesBefore)
        .map((r) => r.path);
      if (strategy === "cascade") expect(paths).toEqual(["/user_identities/delete"]);
      else {
        expect(paths.length).toBeGreaterThan(1);
        expect(paths).toEqual(
          [...paths].sort((a, b) => STEPWISE_ORDER.indexOf(a) - STEPWISE_ORDER.indexOf(b)),
        );
        expect(paths.at(-1)).toBe("/user_identities/delete");
      }
    });
  }
});
