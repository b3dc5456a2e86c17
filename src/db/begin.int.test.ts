import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../test/helpers/postgres.js";
import { proxyUrl } from "../../test/helpers/tcp-proxy.js";
import { createPool, type Db, pipeline } from "./client.js";

/** BEGIN as postgres.js writes it: a simple-protocol Query message. */
const BEGIN_MESSAGE = "Q\0\0\0\nbegin\0";

/**
 * patches/postgres+3.4.9.patch sends a transaction's first statements behind BEGIN instead of
 * after BEGIN's answer: what the client writes, seen through a proxy, is one burst with both.
 */
describe("a transaction's first round trip", () => {
  const testDatabase = useTestDatabase();
  let proxy: Awaited<ReturnType<typeof proxyUrl>>["proxy"];
  let db: Db;
  const written: string[] = [];
  /** The client's write that carried BEGIN. */
  const beginFlight = () => written.find((chunk) => chunk.includes(BEGIN_MESSAGE));

  beforeAll(async () => {
    const proxied = await proxyUrl(testDatabase().url, {
      observeClient: () => (chunk) => void written.push(chunk.toString("latin1")),
    });
    proxy = proxied.proxy;
    db = createPool(proxied.url, { max: 1, applicationName: "first-flight-test" });
    await db`create table flight_probe (id int primary key)`;
  });
  afterAll(async () => {
    await db?.end({ timeout: 1 });
    await proxy?.close();
  });

  it("carries BEGIN and the statements issued before its answer in one write", async () => {
    written.length = 0;
    const rows = await db.begin(async (tx) => tx.unsafe("select 'first-statement' as marker"));
    expect(rows).toEqual([{ marker: "first-statement" }]);
    expect(beginFlight()).toContain("first-statement");
  });

  it("still fails the transaction, and rolls it back, when a statement of that flight fails", async () => {
    written.length = 0;
    await expect(
      db.begin((tx) =>
        pipeline([tx`insert into flight_probe values (1)`, tx`select 1 / 0 as never`]),
      ),
    ).rejects.toThrow(/division by zero/);
    // Both went out with BEGIN, so the failure came within the flight, not after it.
    expect(beginFlight()).toContain("insert into flight_probe");
    expect(beginFlight()).toContain("select 1 / 0");
    expect(await db`select count(*)::int as n from flight_probe`).toEqual([{ n: 0 }]);
    // The connection is whole again: the next transaction runs on it.
    expect(await db.begin((tx) => tx`select 2 as two`)).toEqual([{ two: 2 }]);
  });
});
