import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { adminSql, databaseUrl } from "../helpers/postgres.js";
import { type ServiceProcess, spawnService, stopService } from "../helpers/process.js";
import { dropPrefix, testPrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait-for.js";

describe("start-up", () => {
  it.each([
    [
      "SEAM_WEBHOOK_SECRET",
      { API_TOKENS: "a-production-token-0123456789" } as Record<string, string>,
    ],
    [
      "API_TOKENS",
      { SEAM_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", API_TOKENS: "short" },
    ],
  ])("in production, stops with one line naming %s", async (name, env) => {
    const service = await spawnService({ SEAM_WEBHOOK_SECRET: "", ...env, NODE_ENV: "production" });
    expect(await service.exited).toBe(1);
    const lines = service.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
  });

  describe("two processes on a database that does not exist yet", () => {
    const name = `sp_fresh_${randomBytes(5).toString("hex")}`;
    const prefix = testPrefix();
    const services: ServiceProcess[] = [];
    afterAll(async () => {
      await Promise.all(services.map((service) => stopService(service)));
      const admin = adminSql();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      await dropPrefix(prefix);
    });

    it("create it and migrate it once, together", async () => {
      const env = { DATABASE_URL: databaseUrl(name), QUEUE_PREFIX: prefix };
      services.push(...(await Promise.all([spawnService(env), spawnService(env)])));
      for (const service of services) {
        await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, {
          timeoutMs: 20_000,
          message: `readyz of ${service.url}`,
        });
        await waitFor(() => service.output().includes('"msg":"database migrated"'), {
          message: "migrated",
        });
      }
      const admin = adminSql();
      try {
        const [{ count }] = (await admin.unsafe(
          `select count(*)::int as count from pg_database where datname = '${name}'`,
        )) as unknown as [{ count: number }];
        expect(count).toBe(1);
      } finally {
        await admin.end();
      }
    });
  });
});
