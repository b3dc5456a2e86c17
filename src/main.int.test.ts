import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { createHarness, type Service } from "../test/helpers/harness.js";
import { adminSql, createTestDatabase, databaseUrl } from "../test/helpers/postgres.js";
import { TEST_TOKEN } from "../test/helpers/readiness.js";
import { proxyUrl } from "../test/helpers/tcp-proxy.js";
import { waitFor } from "../test/helpers/wait-for.js";
import type { Role } from "./config.js";

/** src/db/migrate.ts's lock: held here, it keeps a starting service from migrating. */
const MIGRATION_LOCK_KEY = 73_130_001;

/** Services on `url`, returned as soon as they listen (before they migrate). */
const servicesOn = async (url: string) => {
  const harness = await createHarness({ databaseUrl: url });
  return {
    start: (role: Role) => harness.start({ role, ready: false }),
    close: harness.close,
  };
};

const get = (service: Service, path: string, init: RequestInit = {}) =>
  fetch(`${service.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${TEST_TOKEN}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
const readiness = (service: Service) =>
  get(service, `/v1/user_identities/${randomUUID()}/readiness`);
const link = (service: Service) =>
  get(service, `/v1/user_identities/${randomUUID()}/resources`, {
    method: "PUT",
    body: JSON.stringify({ phone_ids: [randomUUID()] }),
  });
const readyz = async (service: Service) => {
  const response = await fetch(`${service.url}/readyz`);
  return { status: response.status, ...((await response.json()) as { checks: object }) };
};
const expectUnavailable = async (response: Response) => {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(await response.json()).toMatchObject({ error: { code: "service_unavailable" } });
};

describe("no 500 while starting or while Postgres is away (CONTRACT §2, §5)", () => {
  it("answers /v1 with 503 and /readyz with 503 in every role until migrations are done", async () => {
    const name = `sp_unmigrated_${randomBytes(5).toString("hex")}`;
    const admin = adminSql();
    await admin.unsafe(`create database ${name}`);
    // Another process migrating, as far as the services can tell: they wait for its lock.
    const migrator = postgres(databaseUrl(name), { max: 1, onnotice: () => {} });
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    const services = await servicesOn(databaseUrl(name));
    try {
      const api = await services.start("api");
      const worker = await services.start("worker");
      // Before: 500, `relation "…" does not exist`, and the worker's /readyz 200.
      await expectUnavailable(await readiness(api));
      await expectUnavailable(await link(api));
      for (const service of [api, worker]) {
        expect(await readyz(service)).toMatchObject({
          status: 503,
          checks: { migrations: "fail: not applied yet", postgres: "ok" },
        });
      }
      await migrator`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      for (const service of [api, worker]) {
        await waitFor(async () => (await readyz(service)).status === 200, { timeoutMs: 20_000 });
      }
      expect((await readiness(api)).status).toBe(200);
      expect((await link(api)).status).toBe(200);
    } finally {
      await migrator.end();
      await services.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  it("never answers 500 while it creates and migrates a fresh database", async () => {
    const name = `sp_fresh_${randomBytes(5).toString("hex")}`;
    const services = await servicesOn(databaseUrl(name));
    try {
      const api = await services.start("api");
      const statuses = new Set<number>();
      const hammer = async () => {
        while ((await readyz(api)).status !== 200) {
          const answers = await Promise.all([readiness(api), link(api)]);
          for (const answer of answers) {
            statuses.add(answer.status);
            if (answer.status !== 200) await expectUnavailable(answer);
          }
        }
      };
      await Promise.all([hammer(), hammer(), hammer()]);
      expect([...statuses].filter((status) => status !== 200 && status !== 503)).toEqual([]);
    } finally {
      await services.close();
      const admin = adminSql();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  it("answers /v1 with 503 and Retry-After while Postgres is unreachable, and serves again after", async () => {
    const database = await createTestDatabase({ max: 1 });
    const { proxy, url: viaProxy } = await proxyUrl(database.url);
    const services = await servicesOn(viaProxy);
    try {
      const api = await services.start("api");
      await waitFor(async () => (await readyz(api)).status === 200, { timeoutMs: 20_000 });
      expect((await link(api)).status).toBe(200);
      await proxy.cut();
      // Before: 500 within 5-55 ms.
      await expectUnavailable(await readiness(api));
      await expectUnavailable(await link(api));
      await proxy.restore();
      await waitFor(async () => (await readiness(api)).status === 200, { timeoutMs: 20_000 });
    } finally {
      await services.close();
      await proxy.close();
      await database.drop();
    }
  });
});
