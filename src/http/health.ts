import { Hono } from "hono";
import { toError } from "../errors.js";
import { withTimeout } from "../util/timeout.js";

/** A named dependency check; it throws (or times out) when the dependency is not usable. */
export type HealthCheck = { name: string; check: () => Promise<void> };

const CHECK_TIMEOUT_MS = 1000;

/** Checks run together, each cut off after 1 s: /readyz answers within 2 s (docs/api.md). */
const runCheck = async ({ name, check }: HealthCheck): Promise<[string, string]> => {
  try {
    await withTimeout(check(), CHECK_TIMEOUT_MS);
    return [name, "ok"];
  } catch (error) {
    return [name, `fail: ${toError(error).message}`];
  }
};

/** `/healthz`: the process answers. `/readyz`: every dependency answers (docs/api.md). */
export const healthRoutes = (checks: HealthCheck[]) =>
  new Hono()
    .get("/healthz", (c) => c.json({ ok: true }))
    .get("/readyz", async (c) => {
      const results = Object.fromEntries(await Promise.all(checks.map(runCheck)));
      const ok = Object.values(results).every((state) => state === "ok");
      return c.json({ ok, checks: results }, ok ? 200 : 503);
    });
