import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../src/replay/sign.js";
import { TEST_SECRET } from "../helpers/ingest.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { ROOT, type ServiceProcess, spawnService, stopService } from "../helpers/process.js";
import { dropPrefix, testPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait-for.js";

/** The built server (tsc output), started as its own process and driven over real HTTP. */
describe("built server, end to end", () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  const prefix = testPrefix();

  beforeAll(async () => {
    execFileSync(
      process.execPath,
      [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: ROOT,
        stdio: "inherit",
      },
    );
    database = await createTestDatabase({ max: 2 });
    service = await spawnService(
      {
        DATABASE_URL: database.url,
        QUEUE_PREFIX: prefix,
        SEAM_WEBHOOK_SECRET: TEST_SECRET,
        ROLE: "all",
      },
      { entry: "dist/main.js" },
    );
    await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, {
      timeoutMs: 20_000,
      message: "readyz",
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${service.output()}`);
    });
  });

  afterAll(async () => {
    await stopService(service);
    await database?.drop();
    await dropPrefix(prefix);
  });

  it("answers /healthz and /readyz naming each check", async () => {
    expect(await (await fetch(`${service.url}/healthz`)).json()).toEqual({ ok: true });
    const ready = (await (await fetch(`${service.url}/readyz`)).json()) as {
      checks: Record<string, string>;
    };
    expect(ready.checks.postgres).toBe("ok");
    expect(ready.checks.redis).toBe("ok");
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
      headers: { "content-type": "application/json", ...signBody(TEST_SECRET, body) },
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
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    expect(service.output()).toContain('"msg":"stopped"');
  });
});
