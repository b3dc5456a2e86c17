import { schemas } from "@seamapi/types/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_WEBHOOK_SECRET } from "../src/config.js";
import { createSimClient, seamErrorOf } from "./client.js";
import { monotonicMs } from "./clock.js";
import { startWebhookReceiver, type WebhookReceiver } from "./receiver.js";
import { type SeamSim, startSeamSim } from "./server.js";

describe("the Seam simulator through @seamapi/http", () => {
  let sim: SeamSim;
  let receiver: WebhookReceiver;
  let seam: ReturnType<typeof createSimClient>;
  beforeAll(async () => {
    receiver = await startWebhookReceiver(LOCAL_WEBHOOK_SECRET);
    sim = await startSeamSim({
      // Long enough for a get right after a delete to find the resource still being deleted.
      deleteDelayMs: [100, 150],
      webhook: { url: receiver.url, secret: receiver.secret },
    });
    seam = createSimClient(sim);
  });
  afterAll(async () => {
    await sim?.close();
    await receiver?.close();
  });

  it("lists and gets every resource of a seeded identity, in the shapes of @seamapi/types", async () => {
    const identity = sim.seedIdentity({ acsUsers: 2, credentialsPerUser: 2 });
    const id = { user_identity_id: identity.user_identity_id };

    const users = await seam.userIdentities.listAcsUsers(id);
    expect(users.map((user) => user.acs_user_id).sort()).toEqual([...identity.acs_user_ids].sort());
    const credentials = await seam.createPaginator(seam.acs.credentials.list(id)).flattenToArray();
    expect(credentials.map((c) => c.acs_credential_id).sort()).toEqual(
      [...identity.acs_credential_ids].sort(),
    );
    // Each credential belongs to one of the identity's ACS users, two each.
    const perUser = credentials.map((c) => c.acs_user_id);
    expect(new Set(perUser)).toEqual(new Set(identity.acs_user_ids));
    const phones = await seam.phones.list({ owner_user_identity_id: identity.user_identity_id });
    expect(phones.map((phone) => phone.device_id)).toEqual(identity.phone_ids);
    const sessions = await seam.clientSessions.list(id);
    expect(sessions.map((session) => session.client_session_id)).toEqual(
      identity.client_session_ids,
    );
    const automations = await seam.userIdentities.enrollmentAutomations.list(id);
    expect(automations.map((a) => a.enrollment_automation_id)).toEqual(
      identity.enrollment_automation_ids,
    );

    const userIdentity = await seam.userIdentities.get(id);
    expect(schemas.user_identity.parse(userIdentity).acs_user_ids.sort()).toEqual(
      [...identity.acs_user_ids].sort(),
    );
    const [acsUserId] = identity.acs_user_ids;
    const user = await seam.acs.users.get({ acs_user_id: String(acsUserId) });
    expect(schemas.acs_user.parse(user).user_identity_id).toBe(identity.user_identity_id);
    const credential = await seam.acs.credentials.get({
      acs_credential_id: String(identity.acs_credential_ids[0]),
    });
    expect(schemas.acs_credential.parse(credential).acs_user_id).toBe(acsUserId);
    const session = await seam.clientSessions.get({
      client_session_id: String(identity.client_session_ids[0]),
    });
    expect(schemas.client_session.parse(session).user_identity_ids).toEqual([
      identity.user_identity_id,
    ]);
    const phone = await seam.phones.get({ device_id: String(identity.phone_ids[0]) });
    expect(phone.device_type).toBe("ios_phone");
    const automation = await seam.userIdentities.enrollmentAutomations.get({
      enrollment_automation_id: String(identity.enrollment_automation_ids[0]),
    });
    expect(automation.user_identity_id).toBe(identity.user_identity_id);
    expect(automation.credential_manager_acs_system_id).toBe(sim.acs.acs_system_id);
  });

  it("deletes every type in the guide's order: 200 at once, gone later, a valid signed webhook each", async () => {
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2 });
    const [sessionId, credentialA, credentialB, acsUserId, automationId, phoneId] = [
      String(identity.client_session_ids[0]),
      String(identity.acs_credential_ids[0]),
      String(identity.acs_credential_ids[1]),
      String(identity.acs_user_ids[0]),
      String(identity.enrollment_automation_ids[0]),
      String(identity.phone_ids[0]),
    ];
    const before = receiver.received.length;

    await seam.clientSessions.delete({ client_session_id: sessionId });
    // Accepted, not yet done: get still finds it, marked as being deleted where Seam says so.
    await seam.acs.credentials.delete({ acs_credential_id: credentialA });
    const pending = await seam.acs.credentials.get({ acs_credential_id: credentialA });
    expect(pending.warnings.map((warning) => warning.warning_code)).toEqual(["being_deleted"]);
    expect(schemas.acs_credential.parse(pending).acs_credential_id).toBe(credentialA);
    expect(sim.exists("acs_credential", credentialA)).toBe(true);
    await seam.acs.credentials.delete({ acs_credential_id: credentialB });
    await sim.settled();
    expect(sim.exists("acs_credential", credentialA)).toBe(false);
    expect(sim.deletedAt("acs_credential", credentialA)).toBeInstanceOf(Date);
    expect(await seamErrorOf(seam.acs.credentials.get({ acs_credential_id: credentialA }))).toEqual(
      { status: 404, code: "acs_credential_not_found" },
    );

    await seam.acs.users.delete({ acs_user_id: acsUserId });
    await seam.userIdentities.enrollmentAutomations.delete({
      enrollment_automation_id: automationId,
    });
    await seam.phones.deactivate({ device_id: phoneId });
    await sim.settled();
    await seam.userIdentities.delete({ user_identity_id: identity.user_identity_id });
    await sim.settled();

    expect(await seamErrorOf(seam.phones.get({ device_id: phoneId }))).toEqual({
      status: 404,
      code: "device_not_found",
    });
    expect(await seamErrorOf(seam.clientSessions.get({ client_session_id: sessionId }))).toEqual({
      status: 404,
      code: "client_session_not_found",
    });
    expect(
      await seamErrorOf(seam.userIdentities.get({ user_identity_id: identity.user_identity_id })),
    ).toEqual({ status: 404, code: "user_identity_not_found" });
    // A delete of something already deleted is a 404, like Seam's; it still counts as a call.
    expect(await seamErrorOf(seam.acs.users.delete({ acs_user_id: acsUserId }))).toEqual({
      status: 404,
      code: "acs_user_not_found",
    });
    expect(sim.deleteCalls(acsUserId)).toBe(2);

    const received = receiver.received.slice(before);
    expect(received.flatMap((item) => item.problems)).toEqual([]);
    expect(received.map((item) => item.event.event_type).sort()).toEqual(
      [
        "client_session.deleted",
        "acs_credential.deleted",
        "acs_credential.deleted",
        "acs_user.deleted",
        "enrollment_automation.deleted",
        "phone.deactivated",
      ].sort(),
    );
    expect(received.map((item) => item.event.workspace_id)).toEqual(
      received.map(() => sim.workspaceId),
    );
    const ids = (field: string) => received.map((item) => item.event[field]).filter(Boolean);
    expect(ids("acs_credential_id").sort()).toEqual([credentialA, credentialB].sort());
    expect(ids("device_id")).toEqual([phoneId]);
    expect(sim.posted.slice(-6).map((post) => post.status)).toEqual([204, 204, 204, 204, 204, 204]);
  });

  it("stamps each request's arrival and each webhook's sending and answer on the monotonic clock", async () => {
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 0 });
    const [phoneId] = identity.phone_ids as [string];
    const before = monotonicMs();
    await seam.phones.deactivate({ device_id: phoneId });
    const answered = monotonicMs();
    const request = sim.calls("/phones/deactivate").at(-1);
    expect(request?.params.device_id).toBe(phoneId);
    expect(request?.receivedMs).toBeGreaterThanOrEqual(before);
    expect(request?.receivedMs).toBeLessThanOrEqual(answered);
    await sim.settled();
    const post = sim.posted.find((p) => p.resourceId === phoneId);
    // Posted once the delete completed, 100 ms or more after it was accepted.
    expect(post?.sentMs).toBeGreaterThanOrEqual((request?.receivedMs ?? 0) + 100);
    expect(post?.answeredMs).toBeGreaterThanOrEqual(post?.sentMs ?? Number.POSITIVE_INFINITY);
    expect(post?.answeredMs).toBeLessThanOrEqual(monotonicMs());
  });

  it("answers a get or a delete of an unknown resource with Seam's 404", async () => {
    const unknown = crypto.randomUUID();
    expect(
      await seamErrorOf(
        seam.userIdentities.enrollmentAutomations.get({ enrollment_automation_id: unknown }),
      ),
    ).toEqual({ status: 404, code: "enrollment_automation_not_found" });
    expect(await seamErrorOf(seam.clientSessions.delete({ client_session_id: unknown }))).toEqual({
      status: 404,
      code: "client_session_not_found",
    });
    expect(await seamErrorOf(seam.phones.deactivate({ device_id: unknown }))).toEqual({
      status: 404,
      code: "device_not_found",
    });
    expect(sim.calls("/phones/deactivate").at(-1)?.params).toEqual({ device_id: unknown });
  });

  it("answers a GET with the parameters in its query, as Seam does", async () => {
    const identity = sim.seedIdentity();
    const get = (path: string) =>
      fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
    const found = await get(`/phones/get?device_id=${identity.phone_ids[0]}`);
    expect(found.status).toBe(200);
    expect(((await found.json()) as { phone: { device_id: string } }).phone.device_id).toBe(
      identity.phone_ids[0],
    );
    const missing = await get(`/user_identities/get?user_identity_id=${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe(
      "user_identity_not_found",
    );
    const wrongKey = await fetch(`${sim.url}/phones/list`, {
      headers: { authorization: "Bearer seam_not_the_key" },
    });
    expect(wrongKey.status).toBe(401);
  });

  it("logs completed deletions in /events/list, for a backfill of what a webhook missed", async () => {
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    const credentialId = String(identity.acs_credential_ids[0]);
    sim.drop(credentialId);
    const since = new Date(Date.now() - 1_000).toISOString();
    await seam.acs.credentials.delete({ acs_credential_id: credentialId });
    await sim.settled();
    expect(receiver.idsOf("acs_credential_id")).not.toContain(credentialId);
    const events = await seam.events.list({ since, acs_credential_id: credentialId });
    expect(events.map((event) => event.event_type)).toEqual(["acs_credential.deleted"]);
  });
});
