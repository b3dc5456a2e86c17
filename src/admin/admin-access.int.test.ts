import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Service } from "../../test/helpers/harness.js";
import { deletionEvent, TEST_TOKEN } from "../../test/helpers/readiness.js";
import { EVENTS_QUEUE, type EventsQueue } from "../ingest/queue.js";
import { BOARD_PATH } from "./board.js";

const ADMIN_TOKEN = `admin-token-${randomUUID()}`;
const API = `${BOARD_PATH}/api/queues`;
const Q = `${API}/${EVENTS_QUEUE}`;

/** Every state-changing call of Bull Board 9's API on the events queue (src: routes.js). */
const BOARD_WRITES: [method: string, path: string][] = [
  ["PUT", `${API}/pause`],
  ["PUT", `${API}/resume`],
  ["PUT", `${Q}/retry/failed`],
  ["PUT", `${Q}/promote`],
  ["PUT", `${Q}/clean/completed`],
  ["PUT", `${Q}/pause`],
  ["PUT", `${Q}/resume`],
  ["PUT", `${Q}/concurrency`],
  ["PUT", `${Q}/rate-limit`],
  ["PUT", `${Q}/rate-limit/release`],
  ["PUT", `${Q}/empty`],
  ["PUT", `${Q}/obliterate`],
  ["PUT", `${Q}/some-job/retry`],
  ["PUT", `${Q}/some-job/clean`],
  ["PUT", `${Q}/some-job/promote`],
  ["PATCH", `${Q}/some-job/delay`],
  ["PATCH", `${Q}/some-job/priority`],
  ["PUT", `${Q}/some-job/remove-unprocessed-children`],
  ["POST", "/admin/dead-letters/retry"],
  ["POST", "/admin/dead-letters/some-job/retry"],
  ["DELETE", "/admin/dead-letters/some-job"],
];

/** Doors through which a job's data would enter the queue unsigned: shut for every token. */
const UNSIGNED_DOORS: [method: string, path: string][] = [
  ["POST", `${Q}/add`],
  ["POST", `${Q}/ad%64`],
  ["POST", `${Q}/add/`],
  ["PATCH", `${Q}/some-job/update-data`],
  ["PATCH", `${Q}/job-schedulers/any`],
  ["PUT", `${Q}/job-schedulers/any/run`],
];

const call = (
  service: Service,
  method: string,
  path: string,
  token: string,
  init: { headers?: Record<string, string>; body?: string } = {},
) =>
  fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });

const expectForbidden = async (response: Response, what: string) => {
  expect(response.status, what).toBe(403);
  expect(((await response.json()) as { error: { code: string } }).error.code, what).toBe(
    "forbidden",
  );
};

describe("the admin routes' tokens", () => {
  let harness: Harness;
  let readOnlyHarness: Harness;
  let service: Service;
  let readOnlyService: Service;
  let queue: EventsQueue;
  beforeAll(async () => {
    harness = await createHarness();
    // The same database, a queue of its own, and no ADMIN_TOKENS.
    readOnlyHarness = await createHarness({ database: harness.database });
    queue = harness.queue.queue;
    service = await harness.start({ role: "api", env: { ADMIN_TOKENS: ADMIN_TOKEN } });
    readOnlyService = await readOnlyHarness.start({ role: "api" });
  });
  afterAll(async () => {
    await readOnlyHarness?.close();
    await harness?.close();
  });

  it("refuses Bull Board's add job to every token: the issue's attack adds nothing", async () => {
    const api = service;
    const identity = randomUUID();
    const phone = randomUUID();
    expect((await api.link(identity, { phone_ids: [phone] })).status).toBe(200);
    const event = deletionEvent("phone", phone);
    // A job shaped like the webhook route's, sent as a "simple" (no preflight) browser request.
    const job = {
      name: "event",
      data: {
        body: JSON.stringify(event),
        eventId: event.event_id,
        receivedAt: new Date().toISOString(),
        source: "webhook",
      },
    };
    for (const token of [TEST_TOKEN, ADMIN_TOKEN]) {
      for (const [method, path] of UNSIGNED_DOORS) {
        const response = await call(service, method, path, token, {
          headers: { "content-type": "text/plain" },
          body: JSON.stringify(job),
        });
        await expectForbidden(response, `${method} ${path}`);
      }
    }
    expect(await queue.count()).toBe(0);
    expect(await queue.getJobCountByTypes("completed", "failed", "active")).toBe(0);
    expect((await api.readiness(identity)).ready).toBe(false);
  });

  it("gives an API token 403 on every admin write, and lets it read", async () => {
    for (const [method, path] of BOARD_WRITES) {
      await expectForbidden(
        await call(service, method, path, TEST_TOKEN, { body: "{}" }),
        `${method} ${path}`,
      );
    }
    expect(await queue.isPaused()).toBe(false);
    const board = await call(service, "GET", `${API}?activeQueue=${EVENTS_QUEUE}`, TEST_TOKEN);
    expect(board.status).toBe(200);
    // The board's answer is a request of the service like any other.
    expect(board.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const { queues } = (await board.json()) as { queues: { readOnlyMode: boolean }[] };
    expect(queues.map((q) => q.readOnlyMode)).toEqual([true]);
    expect((await call(service, "GET", "/admin/dead-letters", TEST_TOKEN)).status).toBe(200);
    // The pages, as a browser signed in with Basic opens them, and one of their scripts.
    const page = await fetch(`${service.url}${BOARD_PATH}`, {
      headers: { authorization: `Basic ${Buffer.from(`any:${TEST_TOKEN}`).toString("base64")}` },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /src="([^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(new URL(script ?? "", `${service.url}${BOARD_PATH}/`), {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(asset.status).toBe(200);
  });

  it("lets an admin token change state from the same site or no browser, never cross-site", async () => {
    const board = await call(service, "GET", `${API}?activeQueue=${EVENTS_QUEUE}`, ADMIN_TOKEN);
    const { queues } = (await board.json()) as { queues: { readOnlyMode: boolean }[] };
    expect(queues.map((q) => q.readOnlyMode)).toEqual([false]);

    const crossSite: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: "https://evil.example" },
      { origin: "null" },
    ];
    for (const headers of crossSite) {
      await expectForbidden(
        await call(service, "PUT", `${Q}/pause`, ADMIN_TOKEN, { headers }),
        JSON.stringify(headers),
      );
      await expectForbidden(
        await call(service, "POST", "/admin/dead-letters/retry", ADMIN_TOKEN, { headers }),
        JSON.stringify(headers),
      );
    }
    expect(await queue.isPaused()).toBe(false);

    const sameSite = { "sec-fetch-site": "same-origin", origin: service.url };
    expect(
      (await call(service, "PUT", `${Q}/pause`, ADMIN_TOKEN, { headers: sameSite })).status,
    ).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    expect((await call(service, "PUT", `${Q}/resume`, ADMIN_TOKEN)).status).toBe(200);
    expect(await queue.isPaused()).toBe(false);
    const retried = await call(service, "POST", "/admin/dead-letters/retry", ADMIN_TOKEN, {
      headers: { origin: service.url },
    });
    expect(retried.status).toBe(202);
  });

  it("keeps an admin token out of /v1", async () => {
    const response = await call(
      service,
      "GET",
      `/v1/user_identities/${randomUUID()}/readiness`,
      ADMIN_TOKEN,
    );
    expect(response.status).toBe(401);
  });

  it("is read-only for API tokens without ADMIN_TOKENS", async () => {
    for (const [method, path] of BOARD_WRITES) {
      await expectForbidden(
        await call(readOnlyService, method, path, TEST_TOKEN, { body: "{}" }),
        `${method} ${path}`,
      );
    }
    const board = await call(
      readOnlyService,
      "GET",
      `${API}?activeQueue=${EVENTS_QUEUE}`,
      TEST_TOKEN,
    );
    expect(board.status).toBe(200);
    expect((await call(readOnlyService, "GET", "/admin/dead-letters", TEST_TOKEN)).status).toBe(
      200,
    );
  });
});
