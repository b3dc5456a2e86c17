import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { EVENTS_QUEUE } from "../../src/ingest/queue.js";
import { type Service, useHarness } from "../helpers/harness.js";
import { deletionEvent, TEST_TOKEN } from "../helpers/readiness.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * An API process with no worker, so the test decides what happens to each job: a stand-in
 * worker fails them (as a long Postgres outage would, once retries run out), then a real
 * worker process of the service is started and the operator re-drives them.
 */
/** Re-driving and discarding take an admin token; an API token only reads (CONTRACT §2). */
const ADMIN_TOKEN = `admin-token-${randomUUID()}`;
const harness = useHarness({}, { role: "api", env: { ADMIN_TOKENS: ADMIN_TOKEN } });
let api: Service;
beforeAll(() => {
  api = harness().service;
});

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${api.url}/admin${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${(init.method ?? "GET") === "GET" ? TEST_TOKEN : ADMIN_TOKEN}`,
      ...init.headers,
    },
  });

describe("dead letters", () => {
  it("are refused without a token", async () => {
    const response = await fetch(`${api.url}/admin/dead-letters`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: "unauthorized", message: "missing bearer token" },
    });
  });

  it("are listed, inspected, discarded and re-driven into the projection", async () => {
    const identity = randomUUID();
    const [phone, session, other] = [randomUUID(), randomUUID(), randomUUID()];
    await api.requestDeletion(identity, { phone_ids: [phone], client_session_ids: [session] });
    const events = [
      deletionEvent("phone", phone),
      deletionEvent("client_session", session),
      deletionEvent("phone", other),
    ];
    for (const event of events) expect((await api.sendEvent(event)).status).toBe(202);
    await harness().queue.failJobs(3, "simulated outage: retries exhausted");

    const list = await admin("/dead-letters?limit=10");
    expect(list.status).toBe(200);
    const page = (await list.json()) as { total: number; items: Record<string, unknown>[] };
    expect(page.total).toBe(3);
    expect(page.items.map((item) => item.event_id).sort()).toEqual(
      events.map((event) => event.event_id).sort(),
    );
    expect(page.items[0]).toMatchObject({
      reason: "simulated outage: retries exhausted",
      poison: false,
      source: "webhook",
      attempts: 1,
    });
    const paged = (await (await admin("/dead-letters?limit=1&offset=2")).json()) as {
      items: unknown[];
    };
    expect(paged.items).toHaveLength(1);
    expect((await admin("/dead-letters?limit=0")).status).toBe(400);
    // Past what Redis takes (2^63): a 400 naming the field, not a 503 that reads as an outage.
    const huge = await admin("/dead-letters?offset=99999999999999999999");
    expect(huge.status).toBe(400);
    expect(await huge.json()).toMatchObject({
      error: { code: "invalid_request", field: "offset" },
    });

    // The job id is the list's: the event id and a hash of the body.
    const jobOf = (index: number) =>
      page.items.find((item) => item.event_id === events[index]?.event_id)?.job_id as string;
    expect(jobOf(0)).toMatch(new RegExp(`^${events[0]?.event_id}\\.[0-9a-f]{16}$`));
    const detail = await admin(`/dead-letters/${jobOf(0)}`);
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({
      event_id: events[0]?.event_id,
      event_type: "phone.deactivated",
      event: events[0],
      stacktrace: [expect.stringContaining("simulated outage")],
    });
    expect((await admin("/dead-letters/no-such-job")).status).toBe(404);
    expect((await admin("/dead-letters/bad:id")).status).toBe(400);

    // The unrelated phone's event is discarded; the identity's two are re-driven.
    expect((await admin(`/dead-letters/${jobOf(2)}`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/dead-letters/${jobOf(2)}`)).status).toBe(404);

    await harness().start({ role: "worker" });
    // A worker leaves the failed set alone: only the operator re-drives.
    expect((await api.readiness(identity)).ready).toBe(false);

    const one = await admin(`/dead-letters/${jobOf(0)}/retry`, { method: "POST" });
    expect(one.status).toBe(202);
    expect(await one.json()).toEqual({ retried: 1 });
    await waitFor(
      async () => (await api.readiness(identity)).blockers.map((b) => b.id).join() === session,
      { message: "phone deletion re-driven and projected" },
    );
    const rest = await admin("/dead-letters/retry", { method: "POST" });
    expect(await rest.json()).toEqual({ retried: 1 });
    const waited = await api.waitDeletion(identity, 10);
    expect(await waited.json()).toMatchObject({ ready: true, deletion: { status: "ready" } });
    expect(((await (await admin("/dead-letters")).json()) as { total: number }).total).toBe(0);
    // Re-driving what is no longer failed is a 404, not a second run.
    expect((await admin(`/dead-letters/${jobOf(0)}/retry`, { method: "POST" })).status).toBe(404);
  });
});

describe("Bull Board", () => {
  it("sits behind the same tokens, with a Basic prompt for browsers", async () => {
    const anonymous = await fetch(`${api.url}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /);
    const wrong = await fetch(`${api.url}/admin/queues`, {
      headers: {
        authorization: `Basic ${Buffer.from("ops:not-the-token-at-all").toString("base64")}`,
      },
    });
    expect(wrong.status).toBe(401);

    const basic = `Basic ${Buffer.from(`ops:${TEST_TOKEN}`).toString("base64")}`;
    const page = await fetch(`${api.url}/admin/queues`, { headers: { authorization: basic } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${api.url}/admin/queues/${script}`, {
      headers: { authorization: basic },
    });
    expect(asset.status).toBe(200);

    const queues = await fetch(`${api.url}/admin/queues/api/queues`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: { name: string }[] };
    expect(body.queues.map((queue) => queue.name)).toEqual([EVENTS_QUEUE]);

    // A path the board does not serve: the envelope every error has, not its plain text.
    const missing = await fetch(`${api.url}/admin/queues/nope/x`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
