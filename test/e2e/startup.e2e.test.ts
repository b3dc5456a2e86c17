import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { useHarness } from "../helpers/harness.js";
import { adminSql, databaseUrl } from "../helpers/postgres.js";
import { waitFor } from "../helpers/wait-for.js";

describe("start-up", () => {
  // On a database that does not exist yet: the service must create it.
  const fresh = `sp_fresh_${randomBytes(5).toString("hex")}`;
  // Registered first, so it runs last, once the harness has stopped its processes.
  afterAll(async () => {
    const admin = adminSql();
    await admin.unsafe(`drop database if exists ${fresh} with (force)`);
    await admin.end();
  });
  const harness = useHarness({ databaseUrl: databaseUrl(fresh) }, false);

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
    const service = await harness().spawn({
      env: { SEAM_WEBHOOK_SECRET: "", ...env, NODE_ENV: "production" },
      ready: false,
    });
    expect(await service.process.exited).toBe(1);
    const lines = service.process.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
  });

  describe("two processes on a database that does not exist yet", () => {
    it("create it and migrate it once, together", async () => {
      const services = await Promise.all([harness().spawn(), harness().spawn()]);
      for (const service of services) {
        await waitFor(() => service.process.output().includes('"msg":"database migrated"'), {
          message: "migrated",
        });
      }
      const admin = adminSql();
      try {
        const [{ count }] = (await admin.unsafe(
          `select count(*)::int as count from pg_database where datname = '${fresh}'`,
        )) as unknown as [{ count: number }];
        expect(count).toBe(1);
      } finally {
        await admin.end();
      }
    });
  });
});
