import { randomUUID } from "node:crypto";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SeamSim, startSeamSim } from "../../sim/server.js";
import { createLogger } from "../../src/log.js";
import { executionSteps } from "../../src/shared/resources.js";
import { withTimeout } from "../../src/util/timeout.js";
import { type Browser, openBrowser, watchPage } from "../helpers/browser.js";
import { type Service, type StartOptions, useHarness } from "../helpers/harness.js";
import { collectLogLines } from "../helpers/log-lines.js";
import { watchOpenRequests } from "../helpers/open-requests.js";
import { ROOT } from "../helpers/process.js";
import { deletionEvent, TEST_TOKEN } from "../helpers/readiness.js";
import { proxyUrl } from "../helpers/tcp-proxy.js";

/**
 * The console (CONTRACT §9) in a real browser against the real service (in-process, its
 * projector included), every change caused over HTTP as a client or Seam would cause it.
 * Screenshots go to test-results/console/; with UPDATE_SCREENSHOTS=1 the table's becomes
 * docs/console.png.
 */
/**
 * The globals of the page, for the functions that run in it: the project's lib is Node's, not
 * the DOM's, so this file names the little of the DOM it uses.
 */
type PageElement = { dataset: Record<string, string | undefined>; textContent: string | null };
declare const document: {
  body: unknown;
  documentElement: { scrollWidth: number };
  querySelector: (selector: string) => PageElement | null;
  querySelectorAll: (selector: string) => Iterable<PageElement>;
};
declare const window: object;
declare const sessionStorage: { getItem: (key: string) => string | null };
declare const MutationObserver: new (
  callback: () => void,
) => { observe: (target: unknown, options: object) => void };

const OUT = path.join(ROOT, "test-results/console");
const LIVE_MS = 1000;

const harness = useHarness({}, false);
const requests = watchOpenRequests();
/**
 * The requests still open when a stop's grace ran out (src/main.ts), taken as the service logs
 * so at warn; undefined while no stop has needed it.
 */
let openAtGrace: string[] | undefined;
const { sink } = collectLogLines((line) => {
  if (line.includes("connections still open at shutdown")) openAtGrace = requests.open();
});
const start = (options: StartOptions = {}) =>
  harness().start({ log: createLogger("warn", {}, sink), ...options });
let browser: Browser;
let service: Service | undefined;
let sim: SeamSim | undefined;
const timings: Record<string, number> = {};

beforeAll(async () => {
  browser = await openBrowser();
  await mkdir(OUT, { recursive: true });
});

afterAll(async () => {
  requests.stop();
  await browser?.close();
  await writeFile(path.join(OUT, "timings.json"), `${JSON.stringify(timings, null, 2)}\n`);
});

/**
 * Runs every clean-up step, each within its own bound, then throws the failures, naming their
 * steps. Once, in CI, this hook hung past its 60 s without saying which step did. Each step
 * now has 15 s, so even three that hang end within the hook's 60 s with their names, and the
 * steps after a hung one still run; a service's stop that hangs names the part it waits for.
 */
const cleanUp = async (
  steps: [name: string, run: () => Promise<unknown>, stuckAt?: () => string | undefined][],
) => {
  const failures: string[] = [];
  for (const [name, run, stuckAt] of steps) {
    try {
      await withTimeout(run(), 15_000);
    } catch (error) {
      const at = stuckAt?.();
      failures.push(
        `${name}${at ? ` (at ${at})` : ""}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (failures.length > 0) throw new Error(`clean-up failed: ${failures.join("; ")}`);
};

// One service (and simulator) per test: the page of one test must not see the next one's, and
// a service left running would take the next test's Seam calls (the queue is the harness's).
afterEach(async () => {
  const [stopping, closing] = [service, sim];
  [service, sim] = [undefined, undefined];
  let openAtStop: string[] = [];
  await cleanUp([
    ["closing the pages", () => Promise.all(browser.context.pages().map((page) => page.close()))],
    [
      "stopping the service",
      async () => {
        openAtStop = requests.open();
        await stopping?.stop();
      },
      () =>
        `${stopping?.closing() ?? "no part"}; requests open: ${requests.open().join(", ") || "none"}`,
    ],
    ["closing the simulator", async () => closing?.close()],
  ]);
  // A stop that needed its grace (src/main.ts) passes, but says what it waited for: once, in
  // CI, a stop waited here on a connection that nothing ended.
  if (openAtGrace !== undefined) {
    console.warn(
      `a stop needed its grace; requests open as it began: ${openAtStop.join(", ")}; as the grace ran out: ${openAtGrace.join(", ") || "none"}`,
    );
    openAtGrace = undefined;
  }
});

const rowIds = (page: Page) =>
  page.$$eval("#rows tr", (rows) =>
    (rows as unknown as PageElement[]).map((row) => row.dataset.id),
  );

/** How long `wait` (a waitForFunction with `timeout: LIVE_MS`, started now) took. */
const timed = async (wait: () => Promise<unknown>) => {
  const started = performance.now();
  await wait();
  return Math.round(performance.now() - started);
};

const signIn = async (page: Page, url: string) => {
  await page.goto(`${url}/console`);
  await page.getByLabel("API token").fill(TEST_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#link-state", { hasText: "live" }).waitFor();
};

const noHorizontalScroll = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth);

describe("the console", () => {
  it("signs in, follows deletions live to ready, opens one, and fits a phone", async () => {
    service = await start();
    const { url } = service;
    const page = await browser.context.newPage();
    const watched = watchPage(page);

    // Other deletions first, so the table has rows of each kind around the one followed.
    const older = randomUUID();
    const olderUser = randomUUID();
    expect((await service.requestDeletion(older, { acs_user_ids: [olderUser] })).status).toBe(201);
    const others: Record<string, string[]>[] = [
      { acs_credential_ids: [randomUUID(), randomUUID()], acs_user_ids: [randomUUID()] },
      { phone_ids: [randomUUID()], client_session_ids: [randomUUID(), randomUUID()] },
      {},
    ];
    for (const links of others) {
      expect((await service.requestDeletion(randomUUID(), links)).status).toBe(201);
    }

    await page.goto(`${url}/console`);
    await expect(page.getByLabel("API token").isVisible()).resolves.toBe(true);
    await page.getByLabel("API token").fill(`wrong-${TEST_TOKEN}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The token was refused").waitFor();
    await expect(page.locator("#list").isHidden()).resolves.toBe(true);
    await page.getByLabel("API token").fill(TEST_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#link-state", { hasText: "live" }).waitFor();
    await page.locator(`#rows tr[data-id="${older}"]`).waitFor();
    // The events queue's counts, from the stream, and the links beside them.
    await page.waitForFunction(() =>
      ["#queue-waiting", "#queue-failed"].every((id) =>
        /^\d+$/.test(document.querySelector(id)?.textContent ?? ""),
      ),
    );
    expect(await page.getByRole("link", { name: "Queues" }).getAttribute("href")).toBe(
      "/admin/queues",
    );
    expect(await page.getByRole("link", { name: "API docs" }).getAttribute("href")).toBe("/docs");
    // The token stays out of every URL the page asked for.
    expect(watched.requests.filter((u) => u.includes(TEST_TOKEN))).toEqual([]);

    // A deletion requested through the API shows, pending with its blocker, without a reload.
    const identity = randomUUID();
    const acsUser = randomUUID();
    const requested = await service.requestDeletion(identity, { acs_user_ids: [acsUser] });
    expect(requested.status).toBe(201);
    timings.requested_201_to_row_ms = await timed(() =>
      page.waitForFunction(
        (id) => {
          const row = document.querySelector(`#rows tr[data-id="${id}"]`);
          return row?.dataset.status === "pending" && /acs_user: 1/.test(row.textContent ?? "");
        },
        identity,
        { timeout: LIVE_MS },
      ),
    );
    const row = page.locator(`#rows tr[data-id="${identity}"]`);
    expect(await row.textContent()).toContain(identity);
    expect(await row.textContent()).toMatch(/pending/);
    // Newest request first: it is above the older pending one.
    const before = await rowIds(page);
    expect(before.indexOf(identity)).toBeLessThan(before.indexOf(older));

    // Its last blocker's deletion event: ready within 1 s of the webhook's 202, below pending.
    const webhook = await service.sendEvent(deletionEvent("acs_user", acsUser));
    expect(webhook.status).toBe(202);
    timings.webhook_202_to_ready_row_ms = await timed(() =>
      page.waitForFunction(
        ({ id, older }) => {
          const ids = [...document.querySelectorAll("#rows tr")].map((tr) => tr.dataset.id);
          const ready = document.querySelector(`#rows tr[data-id="${id}"]`);
          return ready?.dataset.status === "ready" && ids.indexOf(id) > ids.indexOf(older);
        },
        { id: identity, older },
        { timeout: LIVE_MS },
      ),
    );
    const statuses = await page.$$eval("#rows tr", (rows) =>
      (rows as unknown as PageElement[]).map((tr) => tr.dataset.status),
    );
    expect(statuses).toEqual(
      [...statuses].sort((a, b) => (a === b ? 0 : a === "pending" ? -1 : 1)),
    );
    expect(await row.textContent()).toMatch(/ready/);
    await page.screenshot({ path: path.join(OUT, "table.png") });
    if (process.env.UPDATE_SCREENSHOTS === "1") {
      await copyFile(path.join(OUT, "table.png"), path.join(ROOT, "docs/console.png"));
    }

    // The pending one's detail: its blocker by type and id, its history, live.
    await page.locator(`#rows a[href="#/identity/${older}"]`).click();
    await page.locator("#detail h2", { hasText: older }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/identity/${older}`);
    await page.locator('.entries li[data-what="requested"]').waitFor();
    const blockers = await page.locator(".blockers").textContent();
    expect(blockers).toContain("acs_user");
    expect(blockers).toContain(olderUser);
    expect(await page.locator(".summary").textContent()).toMatch(/pending/);
    expect((await service.sendEvent(deletionEvent("acs_user", olderUser))).status).toBe(202);
    await page.locator('.entries li[data-what="ready"]').waitFor();
    await page.locator(".summary .status.ready").waitFor();
    expect(await page.locator(".entries").textContent()).toContain(olderUser);
    await page.screenshot({ path: path.join(OUT, "detail.png") });

    // Back goes to the list; a phone's width scrolls neither view sideways.
    await page.goBack();
    await page.locator("#list:not([hidden])").waitFor();
    await page.setViewportSize({ width: 390, height: 800 });
    expect(await noHorizontalScroll(page)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(OUT, "table-390.png"), fullPage: true });
    await page.locator(`#rows a[href="#/identity/${identity}"]`).click();
    await page.locator('.entries li[data-what="resource_deleted"]').waitFor();
    expect(await noHorizontalScroll(page)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(OUT, "detail-390.png"), fullPage: true });

    // Nothing off this machine; the one console error is the refused token's 401.
    expect(watched.offHost()).toEqual([]);
    expect(watched.errors).toEqual([
      { text: expect.stringContaining("401"), url: `${url}/v1/service` },
    ]);
  });

  it("cancels from the detail view, and the row leaves the list", async () => {
    service = await start();
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    const identity = randomUUID();
    expect((await service.requestDeletion(identity, { phone_ids: [randomUUID()] })).status).toBe(
      201,
    );
    await signIn(page, service.url);
    await page.locator(`#rows a[href="#/identity/${identity}"]`).click();
    await page.getByRole("button", { name: "Cancel deletion…" }).click();
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await page.getByText("No deletion is requested for this identity.").waitFor();
    expect((await service.readiness(identity)).deletion).toBeNull();
    await page.goBack();
    await page.locator("#list:not([hidden])").waitFor();
    expect(await rowIds(page)).not.toContain(identity);
    expect(watched.offHost()).toEqual([]);
    expect(watched.errors).toEqual([]);
  });

  it("filters by status, and keeps ages current without a request", async () => {
    service = await start();
    const [pending, ready] = [randomUUID(), randomUUID()];
    expect((await service.requestDeletion(pending, { acs_user_ids: [randomUUID()] })).status).toBe(
      201,
    );
    expect((await service.requestDeletion(ready)).status).toBe(201);
    const page = await browser.context.newPage();
    // The page's clock runs on as usual, and can be moved forward.
    await page.clock.install();
    const watched = watchPage(page);
    await signIn(page, service.url);
    await page.locator(`#rows tr[data-id="${ready}"]`).waitFor();
    const age = page.locator(`#rows tr[data-id="${pending}"] .age`);
    expect(await age.textContent()).toMatch(/^\d+ s$/);
    const asked = watched.requests.length;
    await page.clock.fastForward("05:00");
    await age.filter({ hasText: /^5 min$/ }).waitFor();
    expect(watched.requests.slice(asked)).toEqual([]);

    const shown = async () => {
      const rows = await page.$$eval("#rows tr", (trs) =>
        (trs as unknown as PageElement[]).map((tr) => [tr.dataset.id, tr.dataset.status]),
      );
      return { ids: rows.map(([id]) => id), statuses: new Set(rows.map(([, status]) => status)) };
    };
    await page.locator("#filter").selectOption("ready");
    await page.locator(`#rows tr[data-id="${pending}"]`).waitFor({ state: "detached" });
    expect(await shown()).toMatchObject({ statuses: new Set(["ready"]) });
    expect((await shown()).ids).toContain(ready);
    await page.locator("#filter").selectOption("pending");
    await page.locator(`#rows tr[data-id="${pending}"]`).waitFor();
    expect(await shown()).toMatchObject({ statuses: new Set(["pending"]) });
    await page.locator("#filter").selectOption("all");
    await page.locator(`#rows tr[data-id="${ready}"]`).waitFor();
    expect((await shown()).statuses).toEqual(new Set(["pending", "ready"]));

    // The token lives in this tab's sessionStorage until sign-out, which asks for it again.
    const stored = () => page.evaluate(() => sessionStorage.getItem("seam-projector.token"));
    expect(await stored()).toBe(TEST_TOKEN);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token").waitFor();
    expect(await stored()).toBeNull();
    expect(await page.locator("#rows tr").count()).toBe(0);
    await page.reload();
    await page.getByLabel("API token").waitFor();
    expect(watched.errors).toEqual([]);
  });

  it("reconnects a dropped stream with Last-Event-ID and lists what it missed", async () => {
    service = await start();
    const { proxy, url: viaProxy } = await proxyUrl(service.url);
    try {
      const page = await browser.context.newPage();
      const watched = watchPage(page);
      const streams: Record<string, string>[] = [];
      page.on("request", (request) => {
        if (request.url().endsWith("/v1/deletions/events")) streams.push(request.headers());
      });
      await signIn(page, viaProxy);
      // The queue's counts come first on the stream, with an id: then there is one to send.
      await page.waitForFunction(() =>
        /^\d+$/.test(document.querySelector("#queue-waiting")?.textContent ?? ""),
      );
      await proxy.cut();
      await page.locator("#link-state", { hasNotText: "live" }).waitFor();
      const missed = randomUUID();
      expect((await service.requestDeletion(missed, { acs_user_ids: [randomUUID()] })).status).toBe(
        201,
      );
      await proxy.restore();
      await page.locator(`#rows tr[data-id="${missed}"]`).waitFor({ timeout: 15_000 });
      expect(streams.length).toBeGreaterThanOrEqual(2);
      expect(streams[0]?.["last-event-id"]).toBeUndefined();
      expect(streams.at(-1)?.["last-event-id"]).toMatch(/\S/);
      expect(watched.offHost()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("executes a deletion in the Seam simulator and shows its steps complete, live", async () => {
    sim = await startSeamSim({ deleteDelayMs: [5, 40] });
    service = await start({ seam: sim });
    sim.setWebhookTarget({ url: service.webhookUrl, secret: service.secret });
    const seeded = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 2 });
    const identity = seeded.user_identity_id;
    // Nothing known yet: ready at once, with no execution; the button discovers and runs it.
    expect((await service.requestDeletion(identity)).status).toBe(201);
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await signIn(page, service.url);
    await page.locator(`#rows a[href="#/identity/${identity}"]`).click();
    // Every execution text the summary shows, as it shows it.
    await page.evaluate(() => {
      const seen: string[] = [];
      Object.assign(window, { seenExecutions: seen });
      const note = () => {
        const text = document.querySelector(".summary")?.textContent ?? "";
        const execution = /Execution(.*?)(Error|$)/.exec(text)?.[1] ?? "";
        if (seen.at(-1) !== execution) seen.push(execution);
      };
      new MutationObserver(note).observe(document.body, { childList: true, subtree: true });
    });
    await page.locator("#strategy").selectOption("stepwise");
    await page.getByRole("button", { name: "Execute in Seam" }).click();
    await page.locator(".summary", { hasText: "stepwise: completed" }).waitFor({ timeout: 20_000 });
    // The steps and the entries are one history read, which follows the stream's readiness.
    await page.locator('.entries li[data-what="execution_completed"]').waitFor();
    const steps = await page.$$eval(".steps > li", (items) =>
      (items as unknown as PageElement[]).map((li) => [li.dataset.step, li.dataset.state]),
    );
    expect(steps).toEqual(executionSteps.map((step) => [step, "done"]));
    // It was seen running before it completed, without a reload.
    const seen = await page.evaluate(
      () => (window as unknown as { seenExecutions: string[] }).seenExecutions,
    );
    expect(seen.findIndex((text) => text.includes("running"))).toBeGreaterThanOrEqual(0);
    expect(seen.findIndex((text) => text.includes("running"))).toBeLessThan(
      seen.indexOf("stepwise: completed"),
    );
    await page.screenshot({ path: path.join(OUT, "executed.png"), fullPage: true });
    await page.goBack();
    await page.locator(`#rows tr[data-id="${identity}"]`, { hasText: "completed" }).waitFor();
    expect(watched.offHost()).toEqual([]);
    expect(watched.errors).toEqual([]);
  });

  it("shows a failed execution's error, and its resume button runs it to the end", async () => {
    sim = await startSeamSim({ deleteDelayMs: [5, 40] });
    service = await start({ seam: sim });
    sim.setWebhookTarget({ url: service.webhookUrl, secret: service.secret });
    const identity = sim.seedIdentity({ acsUsers: 1, credentialsPerUser: 1 }).user_identity_id;
    sim.fault("/acs/credentials/delete", { status: 401 });
    expect((await service.requestDeletion(identity)).status).toBe(201);
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await signIn(page, service.url);
    await page.locator(`#rows a[href="#/identity/${identity}"]`).click();
    await page.getByRole("button", { name: "Execute in Seam" }).click();
    await page.locator(".summary", { hasText: "seam_api_unauthorized" }).waitFor();
    expect(await page.locator(".summary").textContent()).toContain("acs_credentials failed");
    // The steps come from the history, read after the stream's readiness: they follow.
    await page.locator('.steps li[data-step="acs_credentials"][data-state="failed"]').waitFor();
    await page.locator('.entries li[data-what="execution_failed"]').waitFor();
    await page.getByRole("button", { name: "Resume execution" }).click();
    await page.locator(".summary", { hasText: "stepwise: completed" }).waitFor({ timeout: 20_000 });
    expect(await page.getByRole("button", { name: "Resume execution" }).count()).toBe(0);
    expect(watched.offHost()).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});

describe("/docs in the browser", () => {
  it("renders the /v1 operations from this origin only, with no console error", async () => {
    service = await start();
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await page.goto(`${service.url}/docs`);
    await page.getByText("/v1/user_identities/{user_identity_id}/readiness").first().waitFor();
    expect(watched.offHost()).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});
