import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../src/replay/sign.js";
import { type ProcessService, useHarness } from "../helpers/harness.js";
import type { TestDatabase } from "../helpers/postgres.js";
import { buildServer } from "../helpers/process.js";
import { waitFor } from "../helpers/wait-for.js";

/** The built server (tsc output), started as its own process and driven over real HTTP. */
describe("built server, end to end", () => {
  const harness = useHarness({}, false);
  let database: TestDatabase;
  let service: ProcessService;

  beforeAll(async () => {
    database = harness().database;
    service = await harness().spawn({ entry: buildServer() });
  });

  it("answers /healthz and /readyz naming each check", async () => {
    expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ ok: true });
    const ready = (await (await fetch(`${service.url}/readyz`)).json()) as {
      checks: Record<string, string>;
    };
    expect(ready.checks.postgres).toBe("ok");
    expect(ready.checks.redis).toBe("ok");
  });

  it("serves the console's files from console/, beside dist/, under the page's policy", async () => {
    const page = await fetch(`${service.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(
      /^default-src 'self'; script-src 'self'; style-src 'self';/,
    );
    expect(await page.text()).toContain('<script type="module" src="/console/app.js">');
    const script = await fetch(`${service.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("/v1/deletions/events");
  });

  it("takes a signed event over HTTP, answers 202, and projects it into Postgres", async () => {
    const credentialId = randomUUID();
    const event = {
      event_id: randomUUID(),
      event_type: "acs_credential.deleted",
      workspace_id: randomUUID(),
      created_at: new Date().toISOString(),
      occurred_at: new Date().toISOString(),
      acs_system_id: randomUUID(),
      acs_credential_id: credentialId,
    };
    const body = JSON.stringify(event);
    const response = await fetch(`${service.url}/webhooks/seam`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signBody(service.secret, body) },
    });
    expect(response.status).toBe(202);
    const [row] = await waitFor(
      async () => {
        const rows = await database.sql`
          select state, event_id from resources where resource_type = 'acs_credential' and resource_id = ${credentialId}`;
        return rows.length > 0 ? rows : undefined;
      },
      { message: "projected resource" },
    );
    expect(row).toEqual({ state: "deleted", event_id: event.event_id });
    const [stored] =
      await database.sql`select payload, outcome, source from events where event_id = ${event.event_id}`;
    expect(stored).toEqual({ payload: body, outcome: "projected", source: "webhook" });
  });

  it("stops cleanly on SIGTERM", async () => {
    service.process.child.kill("SIGTERM");
    expect(await service.process.exited).toBe(0);
    expect(service.process.output()).toContain('"msg":"stopped"');
  });
});
