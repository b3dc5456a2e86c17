import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../../test/helpers/client.js";
import { type Service, useHarness } from "../../test/helpers/harness.js";
import { deletionEvent, type Readiness } from "../../test/helpers/readiness.js";
import { waitFor } from "../../test/helpers/wait-for.js";

/** Every route and answer of CONTRACT §5, against a real service, Postgres and Redis. */
describe("/v1 readiness API", () => {
  const harness = useHarness();
  let api: Service;
  beforeAll(() => {
    api = harness().service;
  });

  const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
  /** Sends deletion events through the webhook route and waits until they are projected. */
  const project = async (...events: Record<string, unknown>[]) => {
    for (const event of events) expect((await api.sendEvent(event)).status).toBe(202);
    const ids = events.map((event) => String(event.event_id));
    await waitFor(async () => {
      const rows = await harness().database.sql`select 1 from events where event_id = any(${ids})`;
      return rows.length === ids.length;
    });
  };

  describe("GET …/readiness", () => {
    it("says an identity nothing is known about is ready, with no deletion", async () => {
      const identity = randomUUID();
      const response = await api.call("GET", `/v1/user_identities/${identity}/readiness`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        user_identity_id: identity,
        ready: true,
        blockers: [],
        deletion: null,
      });
    });

    it("accepts an upper-case id and answers with the canonical lower-case one", async () => {
      const identity = randomUUID();
      const readiness = await api.readiness(identity.toUpperCase());
      expect(readiness.user_identity_id).toBe(identity);
    });
  });

  describe("PUT …/resources", () => {
    it("links every listed type, answers the readiness object, and is idempotent", async () => {
      const identity = randomUUID();
      const links = {
        acs_user_ids: [randomUUID()],
        acs_credential_ids: [randomUUID(), randomUUID()],
        enrollment_automation_ids: [randomUUID()],
        phone_ids: [randomUUID()],
        client_session_ids: [randomUUID()],
      };
      const first = await api.link(identity, links);
      expect(first.status).toBe(200);
      const readiness = (await first.json()) as Readiness;
      expect(readiness.ready).toBe(false);
      expect(readiness.deletion).toBeNull();
      const expected = [
        ...links.acs_user_ids.map((id) => ({ type: "acs_user", id })),
        ...links.acs_credential_ids.map((id) => ({ type: "acs_credential", id })),
        ...links.enrollment_automation_ids.map((id) => ({ type: "enrollment_automation", id })),
        ...links.phone_ids.map((id) => ({ type: "phone", id })),
        ...links.client_session_ids.map((id) => ({ type: "client_session", id })),
      ];
      expect(readiness.blockers).toHaveLength(6);
      expect(readiness.blockers).toEqual(expect.arrayContaining(expected));
      // Twice more, with a repeated id and upper case: same answer, same rows.
      const again = await api.link(identity, {
        ...links,
        acs_user_ids: [
          links.acs_user_ids[0] as string,
          (links.acs_user_ids[0] as string).toUpperCase(),
        ],
      });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual(readiness);
      const [{ count }] = (await harness().database.sql`
        select count(*)::int as count from resources where user_identity_id = ${identity}`) as unknown as [
        { count: number },
      ];
      expect(count).toBe(6);
    });

    it("answers 409 naming the list when a resource is linked to another identity, and links none of the request", async () => {
      const owner = randomUUID();
      const other = randomUUID();
      const shared = randomUUID();
      const fresh = randomUUID();
      expect((await api.link(owner, { acs_credential_ids: [shared] })).status).toBe(200);
      const response = await api.link(other, {
        acs_user_ids: [fresh],
        acs_credential_ids: [shared],
      });
      await expectError(response, 409, "conflict", "acs_credential_ids");
      expect((await api.readiness(other)).blockers).toEqual([]);
      expect((await api.readiness(owner)).blockers).toEqual([
        { type: "acs_credential", id: shared },
      ]);
      // The same via a deletion request: 409, and no deletion recorded.
      const deletion = await api.requestDeletion(other, { acs_credential_ids: [shared] });
      await expectError(deletion, 409, "conflict", "acs_credential_ids");
      expect((await api.readiness(other)).deletion).toBeNull();
    });

    it("counts a deletion event projected before the link: the resource does not block", async () => {
      const identity = randomUUID();
      const phone = randomUUID();
      const credential = randomUUID();
      await project(deletionEvent("phone", phone));
      const response = await api.link(identity, {
        phone_ids: [phone],
        acs_credential_ids: [credential],
      });
      expect(((await response.json()) as Readiness).blockers).toEqual([
        { type: "acs_credential", id: credential },
      ]);
    });

    it("sends a ready deletion back to pending when a new blocker is linked", async () => {
      const identity = randomUUID();
      const created = (await (await api.requestDeletion(identity)).json()) as Readiness;
      expect(created.deletion?.status).toBe("ready");
      const user = randomUUID();
      const linked = (await (
        await api.link(identity, { acs_user_ids: [user] })
      ).json()) as Readiness;
      expect(linked).toMatchObject({
        ready: false,
        blockers: [{ type: "acs_user", id: user }],
        deletion: { status: "pending", ready_at: null },
      });
    });
  });

  describe("POST …/deletion", () => {
    it("records a pending deletion (201), then answers 200 for the same request", async () => {
      const identity = randomUUID();
      const user = randomUUID();
      const first = await api.requestDeletion(identity, { acs_user_ids: [user] });
      expect(first.status).toBe(201);
      const readiness = (await first.json()) as Readiness;
      expect(readiness).toEqual({
        user_identity_id: identity,
        ready: false,
        blockers: [{ type: "acs_user", id: user }],
        deletion: {
          status: "pending",
          requested_at: expect.stringMatching(ISO),
          ready_at: null,
          execution: null,
        },
      });
      const second = await api.requestDeletion(identity);
      expect(second.status).toBe(200);
      expect(await second.json()).toEqual(readiness);
    });

    it("is ready at once when nothing blocks, with or without a body", async () => {
      for (const body of [undefined, {}]) {
        const identity = randomUUID();
        const response = await api.requestDeletion(identity, body);
        expect(response.status).toBe(201);
        const readiness = (await response.json()) as Readiness;
        expect(readiness.ready).toBe(true);
        expect(readiness.deletion).toEqual({
          status: "ready",
          requested_at: expect.stringMatching(ISO),
          ready_at: expect.stringMatching(ISO),
          execution: null,
        });
      }
    });

    it("becomes ready when the last blocker's deletion event is projected", async () => {
      const identity = randomUUID();
      const [user, credential] = [randomUUID(), randomUUID()];
      await api.requestDeletion(identity, {
        acs_user_ids: [user],
        acs_credential_ids: [credential],
      });
      await project(deletionEvent("acs_credential", credential));
      expect(await api.readiness(identity)).toMatchObject({
        ready: false,
        blockers: [{ type: "acs_user", id: user }],
        deletion: { status: "pending" },
      });
      await project(deletionEvent("acs_user", user));
      expect(await api.readiness(identity)).toMatchObject({
        ready: true,
        blockers: [],
        deletion: { status: "ready", ready_at: expect.stringMatching(ISO) },
      });
    });
  });

  describe("GET …/deletion and DELETE …/deletion", () => {
    it("answers 404 when no deletion was requested, with or without wait", async () => {
      const identity = randomUUID();
      await expectError(await api.waitDeletion(identity), 404, "not_found");
      await expectError(await api.waitDeletion(identity, 5), 404, "not_found");
      expect(api.waiters.size).toBe(0);
    });

    it("answers at once without wait, with the current readiness", async () => {
      const identity = randomUUID();
      const requested = (await (
        await api.requestDeletion(identity, { phone_ids: [randomUUID()] })
      ).json()) as Readiness;
      const started = Date.now();
      const response = await api.waitDeletion(identity);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(requested);
      expect(Date.now() - started).toBeLessThan(500);
    });

    it("cancels (204), after which the deletion is gone (404) and readiness says null", async () => {
      const identity = randomUUID();
      await api.requestDeletion(identity, { acs_user_ids: [randomUUID()] });
      const cancelled = await api.cancelDeletion(identity);
      expect(cancelled.status).toBe(204);
      expect(await cancelled.text()).toBe("");
      await expectError(await api.cancelDeletion(identity), 404, "not_found");
      await expectError(await api.waitDeletion(identity), 404, "not_found");
      expect((await api.readiness(identity)).deletion).toBeNull();
    });

    it("cancels a ready deletion too", async () => {
      const identity = randomUUID();
      await api.requestDeletion(identity);
      expect((await api.cancelDeletion(identity)).status).toBe(204);
    });
  });
});
