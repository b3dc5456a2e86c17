import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../test/helpers/wait-for.js";
import { createSimClient, seamErrorOf } from "./client.js";
import { type ReceivedWebhook, startWebhookReceiver, type WebhookReceiver } from "./receiver.js";
import { type SeamSim, type SeamSimOptions, startSeamSim } from "./server.js";

const SECRET = "whsec_c2VhbS1zaW11bGF0b3ItZmF1bHRzLXRlc3Q=";

let open: { sim: SeamSim; receiver: WebhookReceiver }[] = [];
afterEach(async () => {
  for (const { sim, receiver } of open) {
    await sim.close();
    await receiver.close();
  }
  open = [];
});

/** A simulator posting to a fresh receiver, and a client of it. */
const start = async (options: SeamSimOptions = {}, answer?: (attempt: number) => number) => {
  const receiver = await startWebhookReceiver(SECRET, answer === undefined ? {} : { answer });
  const sim = await startSeamSim({
    deleteDelayMs: [5, 20],
    webhook: { url: receiver.url, secret: SECRET },
    webhookRetryDelaysMs: [10, 20, 40],
    ...options,
  });
  open.push({ sim, receiver });
  const seam = createSimClient(sim);
  return { sim, receiver, seam };
};

describe("the Seam simulator's faults", () => {
  it("posts every event twice at duplicateRate 1: the same message id and event", async () => {
    const { sim, receiver, seam } = await start({ duplicateRate: 1 });
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2 });
    for (const id of identity.acs_credential_ids) {
      await seam.acs.credentials.delete({ acs_credential_id: id });
    }
    await sim.settled();
    expect(receiver.received).toHaveLength(4);
    expect(receiver.received.flatMap((item) => item.problems)).toEqual([]);
    const byMessage = new Map<string, ReceivedWebhook[]>();
    for (const item of receiver.received) {
      byMessage.set(item.messageId, [...(byMessage.get(item.messageId) ?? []), item]);
    }
    expect([...byMessage.values()].map((posts) => posts.length)).toEqual([2, 2]);
    for (const posts of byMessage.values()) {
      expect(posts[0]?.event).toEqual(posts[1]?.event);
    }
  });

  it("never posts a dropped resource's webhook, yet deletes it (drop, and dropRate 1)", async () => {
    const { sim, receiver, seam } = await start();
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2 });
    const [dropped, kept] = identity.acs_credential_ids.map(String);
    sim.drop(String(dropped));
    await seam.acs.credentials.delete({ acs_credential_id: String(dropped) });
    await seam.acs.credentials.delete({ acs_credential_id: String(kept) });
    await sim.settled();
    expect(sim.exists("acs_credential", String(dropped))).toBe(false);
    expect(receiver.idsOf("acs_credential_id")).toEqual([kept]);

    const all = await start({ dropRate: 1 });
    const other = all.sim.seedIdentity();
    await all.seam.phones.deactivate({ device_id: String(other.phone_ids[0]) });
    await all.sim.settled();
    expect(all.sim.exists("phone", String(other.phone_ids[0]))).toBe(false);
    expect(all.receiver.received).toEqual([]);
    expect(all.sim.posted).toEqual([]);
  });

  it("posts a batch in another order than its deletes completed with reorder", async () => {
    // One delay for all: the deletes complete together, one batch.
    const { sim, receiver, seam } = await start({
      reorder: true,
      deleteDelayMs: [30, 30],
      webhookBatchWindowMs: 50,
    });
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 6 });
    await Promise.all(
      identity.acs_credential_ids.map((id) =>
        seam.acs.credentials.delete({ acs_credential_id: id }),
      ),
    );
    await sim.settled();
    const completed = [...identity.acs_credential_ids].sort(
      (a, b) =>
        Number(sim.deletedAt("acs_credential", a)) - Number(sim.deletedAt("acs_credential", b)) ||
        identity.acs_credential_ids.indexOf(a) - identity.acs_credential_ids.indexOf(b),
    );
    const received = receiver.idsOf("acs_credential_id");
    expect([...received].sort()).toEqual([...completed].sort());
    expect(received).not.toEqual(completed);
  });

  it("keeps a stuck resource: its delete answers 200, and get keeps finding it", async () => {
    const { sim, receiver, seam } = await start();
    const identity = sim.seedIdentity();
    const sessionId = String(identity.client_session_ids[0]);
    sim.stuck(sessionId);
    await seam.clientSessions.delete({ client_session_id: sessionId });
    await seam.clientSessions.delete({ client_session_id: sessionId });
    await sim.settled();
    const session = await seam.clientSessions.get({ client_session_id: sessionId });
    expect(session.client_session_id).toBe(sessionId);
    expect(sim.exists("client_session", sessionId)).toBe(true);
    expect(sim.deletedAt("client_session", sessionId)).toBeUndefined();
    expect(sim.deleteCalls(sessionId)).toBe(2);
    expect(receiver.received).toEqual([]);
  });

  it("refuses to delete an ACS user with live credentials, until they are gone", async () => {
    // Deletes that take long enough for the second refusal below to come first, however busy
    // the machine (at 5-20 ms the credential was at times gone already).
    const { sim, seam } = await start({ deleteDelayMs: [500, 500] });
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    const acsUserId = String(identity.acs_user_ids[0]);
    expect(await seamErrorOf(seam.acs.users.delete({ acs_user_id: acsUserId }))).toEqual({
      status: 400,
      code: "acs_user_has_acs_credentials",
    });
    // A credential being deleted is still there: the refusal holds until its delete completes.
    await seam.acs.credentials.delete({
      acs_credential_id: String(identity.acs_credential_ids[0]),
    });
    expect((await seamErrorOf(seam.acs.users.delete({ acs_user_id: acsUserId }))).status).toBe(400);
    await sim.settled();
    await seam.acs.users.delete({ acs_user_id: acsUserId });
    await sim.settled();
    expect(sim.exists("acs_user", acsUserId)).toBe(false);
    expect(sim.deleteCalls(acsUserId)).toBe(3);

    const lenient = await start({ refuseAcsUserDeleteWithCredentials: false });
    const other = lenient.sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 });
    await lenient.seam.acs.users.delete({ acs_user_id: String(other.acs_user_ids[0]) });
    await lenient.sim.settled();
    expect(lenient.sim.exists("acs_user", String(other.acs_user_ids[0]))).toBe(false);
  });

  it("without cascade, refuses to delete an identity that has ACS users or credentials", async () => {
    const { sim, receiver, seam } = await start();
    const identity = sim.seedIdentity();
    const id = { user_identity_id: identity.user_identity_id };
    expect(await seamErrorOf(seam.userIdentities.delete(id))).toEqual({
      status: 400,
      code: "user_identity_has_acs_resources",
    });
    for (const credentialId of identity.acs_credential_ids) {
      await seam.acs.credentials.delete({ acs_credential_id: credentialId });
    }
    await sim.settled();
    await seam.acs.users.delete({ acs_user_id: String(identity.acs_user_ids[0]) });
    await sim.settled();
    await seam.userIdentities.delete(id);
    await sim.settled();
    expect(sim.exists("user_identity", identity.user_identity_id)).toBe(false);
    // The old guide's identity delete takes nothing else with it.
    expect(sim.exists("phone", String(identity.phone_ids[0]))).toBe(true);
    expect(receiver.received.map((item) => item.event.event_type).sort()).toEqual([
      "acs_credential.deleted",
      "acs_credential.deleted",
      "acs_user.deleted",
    ]);
  });

  it("with cascade, deleting the identity deletes everything linked to it, each with its webhook", async () => {
    const { sim, receiver, seam } = await start({ cascade: true });
    const identity = sim.seedIdentity({ acsUsers: 2, credentialsPerUser: 2, phones: 2 });
    const bystander = sim.seedIdentity();
    await seam.userIdentities.delete({ user_identity_id: identity.user_identity_id });
    await sim.settled();
    const linked = [
      ...identity.acs_user_ids,
      ...identity.acs_credential_ids,
      ...identity.phone_ids,
      ...identity.client_session_ids,
      ...identity.enrollment_automation_ids,
    ];
    expect(linked).toHaveLength(10);
    expect(sim.exists("user_identity", identity.user_identity_id)).toBe(false);
    expect(sim.exists("acs_credential", String(identity.acs_credential_ids[3]))).toBe(false);
    const named = receiver.received.map((item) => {
      const { event } = item;
      return String(
        event.acs_user_id ??
          event.acs_credential_id ??
          event.device_id ??
          event.client_session_id ??
          event.enrollment_automation_id,
      );
    });
    expect(named.sort()).toEqual([...linked].sort());
    expect(receiver.received.flatMap((item) => item.problems)).toEqual([]);
    // Only the identity was asked for; nothing of the other identity went.
    expect(linked.map((id) => sim.deleteCalls(id))).toEqual(linked.map(() => 0));
    expect(sim.exists("acs_user", String(bystander.acs_user_ids[0]))).toBe(true);
  });

  it("retries a post the target fails, with backoff, until it is accepted", async () => {
    // The receiver answers 503 twice, then 204.
    const { sim, receiver, seam } = await start({}, (attempt) => (attempt <= 2 ? 503 : 204));
    const identity = sim.seedIdentity();
    await seam.phones.deactivate({ device_id: String(identity.phone_ids[0]) });
    await sim.settled();
    expect(sim.posted.map((post) => [post.status, post.attempt])).toEqual([
      [503, 1],
      [503, 2],
      [204, 3],
    ]);
    expect(new Set(receiver.received.map((item) => item.messageId)).size).toBe(1);
    const [first, , last] = sim.posted;
    expect(Number(last?.at) - Number(first?.at)).toBeGreaterThanOrEqual(25); // 10 + 20 ms of backoff
  });

  it("retries after a connection error, and gives up after its retries", async () => {
    const { sim, receiver, seam } = await start();
    await receiver.close();
    const identity = sim.seedIdentity();
    await seam.phones.deactivate({ device_id: String(identity.phone_ids[0]) });
    await sim.settled();
    expect(sim.posted.map((post) => post.status)).toEqual(Array(4).fill("connection_error"));

    // A target set later gets the webhooks of later deletes.
    const next = await startWebhookReceiver(SECRET);
    sim.setWebhookTarget({ url: next.url, secret: SECRET });
    await seam.clientSessions.delete({ client_session_id: String(identity.client_session_ids[0]) });
    await waitFor(() => next.received.length === 1, { message: "webhook at the new target" });
    expect(next.received[0]?.event.event_type).toBe("client_session.deleted");
    await next.close();
  });

  it("keeps a route's scripted faults: a 429 with Retry-After, then the normal answer", async () => {
    const { sim } = await start();
    const identity = sim.seedIdentity();
    sim.fault("/acs/credentials/delete", { status: 429, retryAfter: "7" });
    const body = JSON.stringify({ acs_credential_id: identity.acs_credential_ids[0] });
    const post = () =>
      fetch(`${sim.url}/acs/credentials/delete`, {
        method: "POST",
        headers: { authorization: `Bearer ${sim.apiKey}`, "content-type": "application/json" },
        body,
      });
    const refused = await post();
    expect([refused.status, refused.headers.get("retry-after")]).toEqual([429, "7"]);
    expect((await post()).status).toBe(200);
    expect(sim.deleteCalls(String(identity.acs_credential_ids[0]))).toBe(1);
  });

  it("makes the same choices from the same seed", async () => {
    /** Which of 12 deletes, one after the other, lost their webhook at dropRate 0.5. */
    const droppedOf = async (seed: number) => {
      const { sim, receiver, seam } = await start({ seed, dropRate: 0.5 });
      const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 12 });
      for (const id of identity.acs_credential_ids) {
        await seam.acs.credentials.delete({ acs_credential_id: id });
        await sim.settled();
      }
      const posted = new Set(receiver.idsOf("acs_credential_id"));
      return identity.acs_credential_ids.map((id) => !posted.has(id));
    };
    const first = await droppedOf(7);
    expect(await droppedOf(7)).toEqual(first);
    expect(first.filter(Boolean).length).toBeGreaterThan(0);
    expect(first.filter(Boolean).length).toBeLessThan(12);
    expect(await droppedOf(8)).not.toEqual(first);
  });
});
