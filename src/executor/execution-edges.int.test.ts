import { describe, expect, it } from "vitest";
import { buildDeletionEvent } from "../../sim/events.js";
import type { SeamSim } from "../../sim/server.js";
import { getsIn, heldAnswer, ONLY, useExecutions } from "../../test/helpers/execution.js";
import type { Service } from "../../test/helpers/harness.js";
import { sampleOf, scrape } from "../../test/helpers/metrics.js";
import { waitFor } from "../../test/helpers/wait-for.js";

/**
 * Seam's answers an execution must take as CONTRACT §8 says (issue 15): a resource that never
 * goes away, a refusal, a 404 to a delete, 5xx then OK, and a get that answers after the
 * awaited event was projected. The service in-process, Seam simulated (sim/).
 */

const { harness, start, callsQueue } = useExecutions({
  env: { EXECUTION_EVENT_TIMEOUT_MS: "200" },
});

/**
 * Posts the phone's phone.deactivated as Seam would, then waits for the identity's step (the
 * identity's delete, which the test holds), so that the event is projected while a call is out.
 */
const deactivatedWhileOut = async (sim: SeamSim, service: Service, phone: string) => {
  const event = buildDeletionEvent("phone", phone, {
    workspaceId: sim.workspaceId,
    at: new Date(),
    acs: sim.acs,
  });
  expect((await service.sendEvent(event)).status).toBe(202);
  await waitFor(() => sim.calls("/user_identities/delete").length === 1, {
    message: "phone.deactivated projected: the identity's step",
  });
};

describe("execution edges", () => {
  it("a resource that never goes away: failed with seam_resource_not_deleted after exactly 3 gets", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2, phones: 0 });
    const [stuck, other] = identity.acs_credential_ids as [string, string];
    sim.stuck(stuck);
    expect((await execute(identity.user_identity_id)).status).toBe(201);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({
      status: "failed",
      step: "acs_credentials",
      error: { code: "seam_resource_not_deleted", message: expect.stringContaining(stuck) },
    });
    expect(ended.deletion?.execution?.finished_at).not.toBeNull();
    const gets = sim.calls("/acs/credentials/get");
    expect(gets.map((r) => r.params.acs_credential_id)).toEqual([stuck, stuck, stuck]);
    expect(sim.deleteCalls(stuck)).toBeGreaterThanOrEqual(3);
    expect(sim.deleteCalls(stuck)).toBeLessThanOrEqual(4);
    // The other credential went as usual, and nothing of a later step was called.
    expect(sim.deleteCalls(other)).toBe(1);
    expect(sim.calls("/acs/users/delete")).toEqual([]);
    expect(ended.blockers).toContainEqual({ type: "acs_credential", id: stuck });
  });

  it("a resume after seam_resource_not_deleted gives the resource its three checks again", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    const [phone] = identity.phone_ids as [string];
    sim.stuck(phone);
    await execute(identity.user_identity_id);
    const first = await waitEnded(identity.user_identity_id);
    expect(first.deletion?.execution?.error?.code).toBe("seam_resource_not_deleted");
    expect(sim.calls("/phones/get")).toHaveLength(3);
    expect((await execute(identity.user_identity_id)).status).toBe(200);
    const second = await waitEnded(identity.user_identity_id);
    expect(second.deletion?.execution).toMatchObject({
      status: "failed",
      step: "phones",
      error: { code: "seam_resource_not_deleted" },
    });
    expect(sim.calls("/phones/get")).toHaveLength(6);
  });

  it("a get answered 503 is not a get that found the resource: still 3 that find it before failing", {
    timeout: 30_000,
  }, async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    const [phone] = identity.phone_ids as [string];
    sim.stuck(phone);
    sim.fault("/phones/get", { status: 503 }, { status: 503 });
    await execute(identity.user_identity_id);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({
      status: "failed",
      step: "phones",
      error: { code: "seam_resource_not_deleted" },
    });
    const metrics = await scrape(service.url);
    const gets = (outcome: string) =>
      sampleOf(metrics, "seam_projector_seam_calls_total", { route: "/phones/get", outcome });
    expect([gets("unavailable"), gets("ok")]).toEqual([2, 3]);
    expect(sim.deleteCalls(phone)).toBeLessThanOrEqual(4);
  });

  it("Seam's 400 to an ACS user delete: failed with seam_api_rejected and Seam's message", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, acsUsers: 1 });
    const [acsUser] = identity.acs_user_ids as [string];
    // A credential of the ACS user that the identity's lists do not show: discovery does not
    // link it, so the ACS user's delete is refused while it remains.
    sim.addCredential(crypto.randomUUID(), { acs_user_id: acsUser });
    await execute(identity.user_identity_id);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({
      status: "failed",
      step: "acs_users",
      error: {
        code: "seam_api_rejected",
        message: expect.stringContaining("Cannot delete an ACS user that still has credentials"),
      },
    });
    expect(sim.calls("/acs/users/delete")).toHaveLength(1);
    expect(sim.calls("/user_identities/delete")).toEqual([]);
  });

  it("a scripted 400 to a phone deactivation: seam_api_rejected, and a POST resumes it", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    sim.fault("/phones/deactivate", { status: 400 });
    await execute(identity.user_identity_id);
    const failed = await waitEnded(identity.user_identity_id);
    expect(failed.deletion?.execution).toMatchObject({
      status: "failed",
      step: "phones",
      error: { code: "seam_api_rejected", message: expect.stringContaining("scripted 400") },
    });
    expect((await execute(identity.user_identity_id)).status).toBe(200);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    expect(sim.deleteCalls(identity.phone_ids[0] as string)).toBe(1);
  });

  it("a 404 to a delete counts as done: the resource is reconciled, the step goes on", async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, acsUsers: 1, credentialsPerUser: 1 });
    // A credential Seam does not know (deleted long ago), linked by the request itself.
    const gone = crypto.randomUUID();
    const started = await execute(identity.user_identity_id, { acs_credential_ids: [gone] });
    expect(started.status).toBe(201);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({ status: "completed", step: null });
    expect(ended.blockers).toEqual([]);
    expect(sim.calls("/acs/credentials/delete").map((r) => r.params.acs_credential_id)).toContain(
      gone,
    );
    expect(sim.deleteCalls(gone)).toBe(1);
    // No get for it: the 404 to the delete already said it is gone.
    expect(getsIn(sim)).toEqual([]);
    const [row] = await harness().database.sql<{ source: string; event_type: string }[]>`
      select source, event_type from events where event_id = ${`reconciled-acs_credential-${gone}`}`;
    expect(row).toEqual({ source: "reconciled", event_type: "acs_credential.deleted" });
    const metrics = await scrape(service.url);
    expect(
      sampleOf(metrics, "seam_projector_seam_calls_total", {
        route: "/acs/credentials/delete",
        outcome: "not_found",
      }),
    ).toBe(1);
  });

  it("a 5xx answered twice, then OK: completes, and the counter shows each outcome", {
    timeout: 30_000,
  }, async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, acsUsers: 1, credentialsPerUser: 1 });
    sim.fault("/acs/credentials/delete", { status: 503 }, { status: 500 });
    await execute(identity.user_identity_id);
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    expect(sim.calls("/acs/credentials/delete")).toHaveLength(3);
    const metrics = await scrape(service.url);
    const count = (outcome: string) =>
      sampleOf(metrics, "seam_projector_seam_calls_total", {
        route: "/acs/credentials/delete",
        outcome,
      });
    expect([count("unavailable"), count("ok")]).toEqual([2, 1]);
    // Backoff: 1 s, then 2 s; never at once.
    const [first, , third] = sim.calls("/acs/credentials/delete").map((r) => r.at.getTime());
    expect((third ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(3000);
  });

  it("the third get finds the resource, but its deletion event was projected meanwhile: not failed", async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    const [phone] = identity.phone_ids as [string];
    sim.stuck(phone);
    const get = heldAnswer();
    const identityDelete = heldAnswer();
    // The first two gets answer at once (still there); the third is held. The identity's
    // delete is held too, so the execution is still running when the third get answers.
    sim.fault("/phones/get", { delayMs: 0 }, { delayMs: 0 }, get.fault);
    sim.fault("/user_identities/delete", identityDelete.fault);
    await execute(identity.user_identity_id);
    await waitFor(() => sim.calls("/phones/get").length === 3, { message: "the third get" });
    // Seam's phone.deactivated arrives while the get is out.
    await deactivatedWhileOut(sim, service, phone);
    get.release();
    const check = { action: "check" as const, type: "phone" as const, id: phone, round: 2 };
    const result = await waitFor(() => callsQueue().resultOf(check), {
      message: "the third check finished",
    });
    // The get found the phone, but its call was done by then: nothing to fail, nothing to redo.
    expect(result).toBe("stale");
    identityDelete.release();
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({ status: "completed", error: null });
    expect(sim.calls("/phones/get")).toHaveLength(3);
  });
  it("a delete answered after its deletion event was projected: the call stays done, no check", async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 2 });
    const phone = heldAnswer();
    const identityDelete = heldAnswer();
    sim.fault("/phones/deactivate", phone.fault);
    sim.fault("/user_identities/delete", identityDelete.fault);
    await execute(identity.user_identity_id);
    await waitFor(() => sim.calls("/phones/deactivate").length === 2, { message: "both phones" });
    // The first to arrive got the held answer.
    const out = sim.calls("/phones/deactivate")[0]?.params.device_id as string;
    await deactivatedWhileOut(sim, service, out);
    phone.release();
    const answered = await waitFor(
      () => callsQueue().resultOf({ action: "delete", type: "phone", id: out }),
      { message: "the held delete recorded" },
    );
    expect(answered).toBe("answered");
    identityDelete.release();
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution?.status).toBe("completed");
    expect(getsIn(sim)).toEqual([]);
    expect(identity.phone_ids.map((id) => sim.deleteCalls(id))).toEqual([1, 1]);
  });

  it("an answer to a job of the execution before a resume changes nothing", async () => {
    const { sim, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 2 });
    const phone = heldAnswer();
    // One deactivation held, the other refused: the execution fails with the first still out.
    sim.fault("/phones/deactivate", phone.fault, { status: 400 });
    await execute(identity.user_identity_id);
    const failed = await waitEnded(identity.user_identity_id);
    expect(failed.deletion?.execution?.error?.code).toBe("seam_api_rejected");
    const [out] = sim.calls("/phones/deactivate").map((r) => r.params.device_id as string);
    expect((await execute(identity.user_identity_id)).status).toBe(200);
    // The resumed run sends the delete in hand again (once), then the old answer comes.
    await waitFor(() => sim.deleteCalls(out as string) === 1, { message: "sent again" });
    phone.release();
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({ status: "completed", error: null });
    expect(identity.phone_ids.map((id) => sim.deleteCalls(id)).sort()).toEqual([1, 2]);
  });
});
