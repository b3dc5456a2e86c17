import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/postgres.js";
import { startTcpProxy } from "../../test/helpers/tcp-proxy.js";
import { createPool, type Db } from "./client.js";

/**
 * patches/postgres+3.4.9.patch sends a transaction's first statements behind BEGIN instead of
 * after BEGIN's answer: what the client writes, seen through a proxy, is one burst with both.
 */
describe("a transaction's first round trip", () => {
  let database: TestDatabase;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let db: Db;
  const written: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await startTcpProxy(
      { host: url.hostname, port: Number(url.port || 5432) },
      { observeClient: () => (chunk) => void written.push(chunk.toString("latin1")) },
    );
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    db = createPool(url.toString(), { max: 1, applicationName: "begin-test" });
    await db`select 1`;
  });
  afterAll(async () => {
    await db?.end({ timeout: 1 });
    await proxy?.close();
    await database?.drop();
  });

  it("carries BEGIN and the statements issued before its answer in one write", async () => {
    written.length = 0;
    const rows = await db.begin(async (tx) => tx.unsafe("select 'first-statement' as marker"));
    expect(rows).toEqual([{ marker: "first-statement" }]);
    const withBegin = written.find((chunk) => chunk.includes("begin"));
    expect(withBegin).toBeDefined();
    expect(withBegin).toContain("first-statement");
  });

  it("still fails the transaction, and rolls it back, when a statement of that flight fails", async () => {
    await db`create table if not exists begin_probe (id int primary key)`;
    await expect(
      db.begin(async (tx) => {
        await tx`insert into begin_probe values (1)`;
        await tx`select 1 / 0`;
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await db`select count(*)::int as n from begin_probe`).toEqual([{ n: 0 }]);
    // The connection is whole again: the next transaction runs on it.
    expect(await db.begin((tx) => tx`select 2 as two`)).toEqual([{ two: 2 }]);
  });
});
