import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeIdentity, type FakeSeam, startFakeSeam } from "../../test/helpers/fake-seam.js";
import {
  createHarness,
  type Harness,
  type Service,
  useHarness,
} from "../../test/helpers/harness.js";
import { deletionEvent, type LinkableType, type Readiness } from "../../test/helpers/readiness.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { createSeamApi } from "./api.js";

const footprint = (): FakeIdentity => ({
  acs_user_ids: [randomUUID(), randomUUID()],
  // Five credentials at two a page: discovery must follow the cursor twice.
  acs_credential_ids: Array.from({ length: 5 }, () => randomUUID()),
  phone_ids: [randomUUID()],
  client_session_ids: [randomUUID()],
  enrollment_automation_ids: [randomUUID()],
});

const blockersOf = (owned: FakeIdentity) =>
  (
    [
      ["acs_user", owned.acs_user_ids],
      ["acs_credential", owned.acs_credential_ids],
      ["phone", owned.phone_ids],
      ["client_session", owned.client_session_ids],
      ["enrollment_automation", owned.enrollment_automation_ids],
    ] as [LinkableType, string[]][]
  )
    .flatMap(([type, ids]) => ids.map((id) => ({ type, id })))
    .sort((a, b) => `${a.type}/${a.id}`.localeCompare(`${b.type}/${b.id}`));

const sortedBlockers = (readiness: Readiness) =>
  [...readiness.blockers].sort((a, b) => `${a.type}/${a.id}`.localeCompare(`${b.type}/${b.id}`));

const expectError = async (response: Response, status: number, code: string) => {
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
  return body.error;
};

const acsEvent = (eventType: string, fields: Record<string, string>) => {
  const at = new Date().toISOString();
  return {
    event_id: randomUUID(),
    event_type: eventType,
    workspace_id: randomUUID(),
    created_at: at,
    occurred_at: at,
    acs_system_id: randomUUID(),
    connected_account_id: randomUUID(),
    ...fields,
  };
};

describe("discovery without SEAM_API_KEY", () => {
  const harness = useHarness();
  let api: Service;
  beforeAll(() => {
    api = harness().service;
  });

  it("answers 400 invalid_request naming discover, and links nothing", async () => {
    const id = randomUUID();
    for (const [method, path] of [
      ["POST", `/v1/user_identities/${id}/deletion`],
      ["PUT", `/v1/user_identities/${id}/resources`],
    ] as const) {
      const response = await api.call(method, path, { discover: true });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: {
          code: "invalid_request",
          message: "discover needs the Seam API, and this service has no SEAM_API_KEY",
          field: "discover",
        },
      });
    }
    expect((await api.waitDeletion(id)).status).toBe(404);
  });
});

describe("discovery configured from SEAM_API_KEY and SEAM_ENDPOINT", () => {
  it("uses the configured Seam, and refuses to start with a key that is not a Seam key", async () => {
    const seam = await startFakeSeam();
    const harness = await createHarness();
    try {
      const api = await harness.start({
        env: { SEAM_API_KEY: seam.apiKey, SEAM_ENDPOINT: seam.url },
      });
      const id = randomUUID();
      const owned = footprint();
      seam.addIdentity(id, owned);
      const response = await api.call("PUT", `/v1/user_identities/${id}/resources`, {
        discover: true,
      });
      expect(response.status).toBe(200);
      expect(sortedBlockers((await response.json()) as Readiness)).toEqual(blockersOf(owned));
      await expect(
        harness.start({ env: { SEAM_API_KEY: "not-a-seam-key", SEAM_ENDPOINT: seam.url } }),
      ).rejects.toThrow(/^SEAM_API_KEY: .*seam_/);
    } finally {
      await harness.close();
      await seam.close();
    }
  });
});

describe("discovery and enrichment through the Seam API", () => {
  let seam: FakeSeam;
  let harness: Harness;
  let api: Service;
  beforeAll(async () => {
    seam = await startFakeSeam({ pageSize: 2 });
    harness = await createHarness();
    api = await harness.start({
      seamApi: createSeamApi({
        apiKey: seam.apiKey,
        endpoint: seam.url,
        timeoutMs: 1_000,
        retries: 2,
        baseDelayMs: 10,
        maxDelayMs: 50,
      }),
    });
  });
  afterAll(async () => {
    await harness?.close();
    await seam?.close();
  });

  const discoverDeletion = (id: string) =>
    api.call("POST", `/v1/user_identities/${id}/deletion`, { discover: true });

  it("POST …/deletion with discover links what Seam lists; its deletion events resolve the waiter", async () => {
    const id = randomUUID();
    const owned = footprint();
    seam.addIdentity(id, owned);
    const response = await discoverDeletion(id);
    expect(response.status).toBe(201);
    const requested = (await response.json()) as Readiness;
    expect(requested.deletion?.status).toBe("pending");
    expect(sortedBlockers(requested)).toEqual(blockersOf(owned));

    const waiting = api.waitDeletion(id, 30);
    for (const { type, id: resourceId } of blockersOf(owned)) {
      expect((await api.sendEvent(deletionEvent(type, resourceId))).status).toBe(202);
    }
    const answer = await waiting;
    expect(answer.status).toBe(200);
    const ready = (await answer.json()) as Readiness;
    expect(ready).toMatchObject({ ready: true, blockers: [], deletion: { status: "ready" } });
  });

  it("PUT …/resources with discover links without requesting a deletion, beside listed ids", async () => {
    const id = randomUUID();
    const owned = footprint();
    seam.addIdentity(id, owned);
    const extraPhone = randomUUID();
    const response = await api.call("PUT", `/v1/user_identities/${id}/resources`, {
      discover: true,
      phone_ids: [extraPhone],
    });
    expect(response.status).toBe(200);
    const linked = (await response.json()) as Readiness;
    expect(linked.deletion).toBeNull();
    expect(sortedBlockers(linked)).toEqual(
      blockersOf({ ...owned, phone_ids: [...owned.phone_ids, extraPhone] }),
    );
  });

  it("answers 409 when a discovered resource is another identity's, and links none of it", async () => {
    const id = randomUUID();
    const owned = footprint();
    seam.addIdentity(id, owned);
    const other = randomUUID();
    expect((await api.link(other, { phone_ids: owned.phone_ids })).status).toBe(200);
    await expectError(await discoverDeletion(id), 409, "conflict");
    const readiness = await api.readiness(id);
    expect(readiness).toMatchObject({ blockers: [], deletion: null });
  });

  it("answers 502 seam_api_unauthorized when Seam refuses the key, and 503 when Seam keeps failing", async () => {
    const id = randomUUID();
    seam.addIdentity(id, footprint());
    seam.fault("/phones/list", { status: 401 });
    const refused = await expectError(await discoverDeletion(id), 502, "seam_api_unauthorized");
    expect(refused.message).toContain("SEAM_API_KEY");

    seam.fault("/client_sessions/list", { status: 500 }, { status: 502 }, { status: 503 });
    await expectError(await discoverDeletion(id), 503, "seam_api_unavailable");
    // Neither recorded a deletion nor linked anything; once Seam answers, it all happens.
    expect((await api.waitDeletion(id)).status).toBe(404);
    expect((await discoverDeletion(id)).status).toBe(201);
  });

  it("a slow Seam holds neither webhooks nor waiters while a discovery waits on it", async () => {
    const waited = randomUUID();
    const phone = randomUUID();
    expect((await api.requestDeletion(waited, { phone_ids: [phone] })).status).toBe(201);
    const waiting = api.waitDeletion(waited, 30);

    const id = randomUUID();
    seam.addIdentity(id, footprint());
    let release = () => {};
    seam.fault("/user_identities/list_acs_users", {
      hold: new Promise<void>((resolve) => {
        release = resolve;
      }),
    });
    const discovering = discoverDeletion(id);
    await waitFor(() =>
      seam.calls("/user_identities/list_acs_users").some((r) => r.params.user_identity_id === id),
    );

    const started = Date.now();
    expect((await api.sendEvent(deletionEvent("phone", phone))).status).toBe(202);
    const answer = (await (await waiting).json()) as Readiness;
    expect(answer.ready).toBe(true);
    expect(Date.now() - started).toBeLessThan(900); // well inside the held call's 1 s timeout

    release();
    expect((await discovering).status).toBe(201);
  });

  it("enriches: links a new ACS user, and a credential by its ACS user, to their identity", async () => {
    const identityId = randomUUID();
    const acsUserId = randomUUID();
    const credentialId = randomUUID();
    seam.addAcsUser(acsUserId, identityId);
    seam.addCredential(credentialId, { acs_user_id: acsUserId });

    expect(
      (await api.sendEvent(acsEvent("acs_user.created", { acs_user_id: acsUserId }))).status,
    ).toBe(202);
    expect(
      (await api.sendEvent(acsEvent("acs_credential.issued", { acs_credential_id: credentialId })))
        .status,
    ).toBe(202);
    const readiness = await waitFor(
      async () => {
        const current = await api.readiness(identityId);
        return current.blockers.length === 2 ? current : undefined;
      },
      { message: "both resources linked by enrichment" },
    );
    expect(sortedBlockers(readiness)).toEqual([
      { type: "acs_credential", id: credentialId },
      { type: "acs_user", id: acsUserId },
    ]);
  });

  it("enrichment waiting on a slow Seam does not hold the projection", async () => {
    const identityId = randomUUID();
    const acsUserId = randomUUID();
    seam.addAcsUser(acsUserId, identityId);
    let release = () => {};
    seam.fault("/acs/users/get", {
      hold: new Promise<void>((resolve) => {
        release = resolve;
      }),
    });
    const waited = randomUUID();
    const phone = randomUUID();
    expect((await api.requestDeletion(waited, { phone_ids: [phone] })).status).toBe(201);
    const waiting = api.waitDeletion(waited, 30);

    await api.sendEvent(acsEvent("acs_user.created", { acs_user_id: acsUserId }));
    await waitFor(() =>
      seam.calls("/acs/users/get").some((r) => r.params.acs_user_id === acsUserId),
    );
    expect((await api.sendEvent(deletionEvent("phone", phone))).status).toBe(202);
    expect(((await (await waiting).json()) as Readiness).ready).toBe(true);

    release();
    await waitFor(async () => (await api.readiness(identityId)).blockers.length === 1, {
      message: "ACS user linked once Seam answered",
    });
  });
});
