import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { beforeAll, describe, expect, it } from "vitest";
import { type Service, useHarness } from "../../test/helpers/harness.js";
import { sampleOf, scrape } from "../../test/helpers/metrics.js";
import { deletionEvent, type Readiness, readEvents } from "../../test/helpers/readiness.js";
import { waitFor } from "../../test/helpers/wait-for.js";

/** Runs `task` over `items`, `limit` at a time (1,000 requests at once would only queue). */
const inBatches = async <T, R>(items: T[], limit: number, task: (item: T) => Promise<R>) => {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    results.push(...(await Promise.all(items.slice(i, i + limit).map(task))));
  }
  return results;
};

describe("waiters", () => {
  const harness = useHarness();
  let api: Service;
  beforeAll(() => {
    api = harness().service;
  });

  /** An identity with a pending deletion blocked by the given number of phones. */
  const pendingIdentity = async (phones = 1) => {
    const identity = randomUUID();
    const phoneIds = Array.from({ length: phones }, () => randomUUID());
    const response = await api.requestDeletion(identity, { phone_ids: phoneIds });
    expect(response.status).toBe(201);
    return { identity, phoneIds };
  };

  describe("long-poll GET …/deletion?wait=S", () => {
    it("answers at once when the deletion is already ready", async () => {
      const identity = randomUUID();
      await api.requestDeletion(identity);
      // A wait longer than the test's own timeout: an answer at all is an answer at once.
      const response = await api.waitDeletion(identity, 60);
      expect(response.status).toBe(200);
      expect(((await response.json()) as Readiness).deletion?.status).toBe("ready");
      expect(api.waiters.size).toBe(0);
    });

    it("answers on the event that makes it ready, not at the end of its wait", async () => {
      const { identity, phoneIds } = await pendingIdentity(2);
      expect((await api.sendEvent(deletionEvent("phone", phoneIds[0] as string))).status).toBe(202);
      let answered = false;
      const waiting = api.waitDeletion(identity, 60).then(async (response) => {
        answered = true;
        return { status: response.status, body: (await response.json()) as Readiness };
      });
      await waitFor(() => api.waiters.size === 1, { message: "waiter registered" });
      // The first event is projected by now or will be; only the last one may wake the waiter.
      await waitFor(async () => (await api.readiness(identity)).blockers.length === 1);
      expect(answered).toBe(false);
      const accepted = await api.sendEvent(deletionEvent("phone", phoneIds[1] as string));
      expect(accepted.status).toBe(202);
      const { status, body } = await waiting;
      expect(status).toBe(200);
      expect(body).toMatchObject({ ready: true, blockers: [], deletion: { status: "ready" } });
      await waitFor(() => api.waiters.size === 0);
    });

    it("leaves the registry empty when the client goes away", async () => {
      const { identity } = await pendingIdentity();
      const abort = new AbortController();
      const waits = Array.from({ length: 5 }, () =>
        api.waitDeletion(identity, 30, abort.signal).catch((error: unknown) => error),
      );
      await waitFor(() => api.waiters.size === 5, { message: "5 waiters registered" });
      abort.abort();
      for (const outcome of await Promise.all(waits)) expect(outcome).toBeInstanceOf(Error);
      await waitFor(() => api.waiters.size === 0, { message: "registry empty", timeoutMs: 2000 });
    });

    it("answers waiters with deletion null when the deletion is cancelled", async () => {
      const { identity } = await pendingIdentity();
      // Waits longer than the test's timeout: answering at all is answering on the cancel.
      const waits = [api.waitDeletion(identity, 60), api.waitDeletion(identity, 60)];
      await waitFor(() => api.waiters.size === 2);
      expect((await api.cancelDeletion(identity)).status).toBe(204);
      for (const response of await Promise.all(waits)) {
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ user_identity_id: identity, deletion: null });
      }
      expect(api.waiters.size).toBe(0);
    });

    it("resolves 1,000 waiters on 1,000 identities", async () => {
      // Set up in one statement: what is under test is the waiting, not 1,000 POSTs.
      const identities = Array.from({ length: 1000 }, () => ({
        identity: randomUUID(),
        phoneIds: [randomUUID()],
      }));
      await harness().database.sql`
        with seeded as (
          insert into resources (resource_type, resource_id, state, user_identity_id, linked_at)
          select 'phone', p, 'unknown', i, now()
          from unnest(${identities.map((x) => x.identity)}::uuid[], ${identities.map((x) => x.phoneIds[0] as string)}::uuid[]) as t(i, p)
          returning user_identity_id)
        insert into pending_deletions (user_identity_id, status) select user_identity_id, 'pending' from seeded`;
      const waits = identities.map(({ identity }) =>
        api.waitDeletion(identity, 60).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as Readiness,
        })),
      );
      await waitFor(() => api.waiters.size === 1000, {
        message: "1,000 waiters",
        timeoutMs: 20_000,
      });
      const statuses = await inBatches(
        identities,
        50,
        async ({ phoneIds }) =>
          (await api.sendEvent(deletionEvent("phone", phoneIds[0] as string))).status,
      );
      expect(statuses.every((status) => status === 202)).toBe(true);
      const answers = await Promise.all(waits);
      expect(answers.filter((a) => a.status === 200 && a.body.ready)).toHaveLength(1000);
      expect(new Set(answers.map((a) => a.body.user_identity_id)).size).toBe(1000);
      expect(api.waiters.size).toBe(0);
    }, 60_000);

    it("still resolves after the LISTEN connection is terminated", async () => {
      const listenerPid = async () => {
        const rows = await harness().database.sql<{ pid: number }[]>`
          select pid from pg_stat_activity
          where datname = current_database() and application_name like 'seam-projector-listener-%'`;
        return rows[0]?.pid;
      };
      const before = await listenerPid();
      expect(before).toBeTypeOf("number");
      const reconnects = async () =>
        sampleOf(await scrape(api.url), "seam_projector_listener_reconnects_total");
      const reconnectsBefore = await reconnects();
      const identities = await Promise.all(Array.from({ length: 20 }, () => pendingIdentity()));
      const waits = identities.map(({ identity }) => api.waitDeletion(identity, 30));
      await waitFor(() => api.waiters.size === 20);
      const relistened = once(api.waiters.events, "listen:success");
      const [terminated] = await harness().database
        .sql`select pg_terminate_backend(${before as number}) as ok`;
      expect(terminated?.ok).toBe(true);
      expect(await relistened).toEqual([{ reconnected: true }]);
      const after = await listenerPid();
      expect(after).toBeTypeOf("number");
      expect(after).not.toBe(before);
      // The operator sees it: the reconnect is counted once the LISTEN is back.
      expect(await reconnects()).toBe(reconnectsBefore + 1);
      for (const { phoneIds } of identities) {
        expect((await api.sendEvent(deletionEvent("phone", phoneIds[0] as string))).status).toBe(
          202,
        );
      }
      for (const response of await Promise.all(waits)) {
        expect(((await response.json()) as Readiness).ready).toBe(true);
      }
      await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200);
    });
  });

  describe("SSE GET …/deletion/events", () => {
    it("sends the readiness at once, each change, and ends after the event that says ready", async () => {
      const { identity, phoneIds } = await pendingIdentity(2);
      const response = await api.call("GET", `/v1/user_identities/${identity}/deletion/events`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      let seen = 0;
      const events = readEvents(response, () => {
        seen += 1;
      });
      await waitFor(() => seen === 1 && api.waiters.size === 1);
      for (const phone of phoneIds) {
        expect((await api.sendEvent(deletionEvent("phone", phone))).status).toBe(202);
        await waitFor(async () =>
          (await api.readiness(identity)).blockers.every((b) => b.id !== phone),
        );
      }
      const received = await events;
      expect(received.map((r) => r.blockers.length)).toEqual([2, 1, 0]);
      expect(received.map((r) => r.deletion?.status)).toEqual(["pending", "pending", "ready"]);
      expect(received.at(-1)?.ready).toBe(true);
      await waitFor(() => api.waiters.size === 0);
    });

    it("ends with deletion null after a cancel", async () => {
      const { identity } = await pendingIdentity();
      const response = await api.call("GET", `/v1/user_identities/${identity}/deletion/events`);
      const events = readEvents(response);
      await waitFor(() => api.waiters.size === 1);
      await api.cancelDeletion(identity);
      const received = await events;
      expect(received.map((r) => r.deletion?.status ?? null)).toEqual(["pending", null]);
      await waitFor(() => api.waiters.size === 0);
    });

    it("answers 404 without a deletion, and leaves nothing behind when the client goes away", async () => {
      const missing = await api.call("GET", `/v1/user_identities/${randomUUID()}/deletion/events`);
      expect(missing.status).toBe(404);
      const { identity } = await pendingIdentity();
      const abort = new AbortController();
      const response = await api.call(
        "GET",
        `/v1/user_identities/${identity}/deletion/events`,
        undefined,
        { signal: abort.signal },
      );
      await waitFor(() => api.waiters.size === 1);
      abort.abort();
      await response.body?.cancel().catch(() => {});
      await waitFor(() => api.waiters.size === 0, { message: "registry empty", timeoutMs: 2000 });
    });
  });

  describe("HEAD", () => {
    it("answers the waiting routes' headers at once, holding no waiter and writing no body", async () => {
      const { identity } = await pendingIdentity();
      const path = `/v1/user_identities/${identity}/deletion`;
      for (const [route, type] of [
        [`${path}?wait=30`, "application/json"],
        [`${path}/events`, "text/event-stream"],
        ["/v1/deletions/events", "text/event-stream"],
      ] as const) {
        const response = await api.call("HEAD", route);
        expect(response.status, route).toBe(200);
        expect(response.headers.get("content-type"), route).toMatch(type);
        expect(response.headers.get("x-hono-already-sent"), route).toBeNull();
        expect(response.headers.get("x-request-id"), route).not.toBeNull();
        expect(await response.text()).toBe("");
        expect(api.waiters.size, route).toBe(0);
      }
      const missing = await api.call("HEAD", `/v1/user_identities/${randomUUID()}/deletion/events`);
      expect(missing.status).toBe(404);
    });
  });
});
