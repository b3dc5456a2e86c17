import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * A real browser for the tests of the pages the service serves: Debian's Chromium, found on
 * PATH (.ci/run installs it when it is missing), driven by playwright-core, which downloads no
 * browser of its own. Headless, quiet (no update, sync or background requests of Chromium's
 * own, so every request a test sees is the page's), in a profile made for the run and removed.
 */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The first `chromium` on PATH that can be run. */
const findChromium = (): string => {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "chromium");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error("no chromium on PATH (apt-get install -y chromium)");
};

export type Browser = { context: BrowserContext; close: () => Promise<void> };

/** Chromium with an empty profile of its own (`--user-data-dir`), 1280×800 by default. */
export const openBrowser = async (): Promise<Browser> => {
  const profile = await mkdtemp(path.join(tmpdir(), "sp-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: findChromium(),
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
    });
    return {
      context,
      close: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
};

/**
 * What a page did that a test checks after: every URL it requested, and every error its
 * console showed (a refused resource, a CSP violation, a script's error) or it threw.
 */
export const watchPage = (page: Page) => {
  const requests: string[] = [];
  const errors: { text: string; url: string }[] = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error")
      errors.push({ text: message.text(), url: message.location().url });
  });
  page.on("pageerror", (error) =>
    errors.push({ text: `${error.name}: ${error.message}`, url: "" }),
  );
  return {
    requests,
    errors,
    /** The requests that went anywhere but this machine (data: URLs stay in the page). */
    offHost: () =>
      requests.filter((url) => !url.startsWith("data:") && new URL(url).hostname !== "127.0.0.1"),
  };
};
