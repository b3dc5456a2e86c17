import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Browser, openBrowser, watchPage } from "../helpers/browser.js";
import { type Service, useHarness } from "../helpers/harness.js";

/** The pages the service serves, in a real browser against the real service (in-process). */
const harness = useHarness({}, false);
let browser: Browser;
let service: Service | undefined;

beforeAll(async () => {
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const page of browser.context.pages()) await page.close();
  await service?.stop();
  service = undefined;
});

describe("/docs in the browser", () => {
  it("renders the /v1 operations from this origin only, with no console error", async () => {
    service = await harness().start();
    const page = await browser.context.newPage();
    const watched = watchPage(page);
    await page.goto(`${service.url}/docs`);
    await page.getByText("/v1/user_identities/{user_identity_id}/readiness").first().waitFor();
    expect(watched.offHost()).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});
