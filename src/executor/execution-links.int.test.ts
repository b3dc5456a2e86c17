import { describe, expect, it } from "vitest";
import { heldAnswer, ONLY, useExecutions } from "../../test/helpers/execution.js";
import { waitFor } from "../../test/helpers/wait-for.js";

/**
 * Resources linked (PUT …/resources) while an execution runs (issue 15): each is deleted
 * before the identity, in the step in hand, whether its own step is in hand or had passed.
 */

const { start } = useExecutions({ env: { EXECUTION_EVENT_TIMEOUT_MS: "200" } });

describe("linked while executing", () => {
  it("a credential linked while its step is in hand is deleted in that step", async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, acsUsers: 1, credentialsPerUser: 1 });
    const [acsUser] = identity.acs_user_ids as [string];
    const first = heldAnswer();
    sim.fault("/acs/credentials/delete", first.fault);
    await execute(identity.user_identity_id);
    await waitFor(() => sim.calls("/acs/credentials/delete").length === 1, {
      message: "the first credential's delete",
    });
    // Issued meanwhile (a phone enrolled late, say), and linked by the application.
    const late = crypto.randomUUID();
    sim.addCredential(late, { acs_user_id: acsUser, user_identity_id: identity.user_identity_id });
    const linked = await service.link(identity.user_identity_id, { acs_credential_ids: [late] });
    expect(linked.status).toBe(200);
    first.release();
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion?.execution).toMatchObject({ status: "completed", error: null });
    expect(sim.deleteCalls(late)).toBe(1);
    expect(ended.blockers).toEqual([]);
  });

  it("a credential linked once its step had passed is deleted before the identity", async () => {
    const { sim, service, execute, waitEnded } = await start();
    const identity = sim.seedIdentity({ ...ONLY, phones: 1 });
    const phone = heldAnswer();
    sim.fault("/phones/deactivate", phone.fault);
    await execute(identity.user_identity_id);
    await waitFor(() => sim.calls("/phones/deactivate").length === 1, { message: "phones step" });
    const late = crypto.randomUUID();
    sim.addCredential(late, { user_identity_id: identity.user_identity_id });
    expect(
      (await service.link(identity.user_identity_id, { acs_credential_ids: [late] })).status,
    ).toBe(200);
    phone.release();
    const ended = await waitEnded(identity.user_identity_id);
    expect(ended.deletion).toMatchObject({
      status: "ready",
      execution: { status: "completed", error: null },
    });
    expect(sim.deleteCalls(late)).toBe(1);
    const identityDelete = sim.calls("/user_identities/delete")[0]?.at.getTime() ?? 0;
    expect(sim.deletedAt("acs_credential", late)?.getTime()).toBeLessThanOrEqual(identityDelete);
  });
});
