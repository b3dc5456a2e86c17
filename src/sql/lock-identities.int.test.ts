import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type TestDatabase, useTestDatabase } from "../../test/helpers/postgres.js";
import { pipeline } from "../db/client.js";
import { lockIdentities } from "./lock-identities.js";

/**
 * The identity lock brings the planner's costs (favour-key-lookups.ts) to every transaction
 * that takes it, the API's and the executor's as well as the projector's, and to no other.
 */
describe("lockIdentities", () => {
  const testDatabase = useTestDatabase({ max: 1 });

  const cost = async (query: { unsafe: TestDatabase["sql"]["unsafe"] }) =>
    ((await query.unsafe("show random_page_cost")) as { random_page_cost: string }[])[0]
      ?.random_page_cost;

  it("plans the rest of its transaction for key lookups, and only that transaction", async () => {
    const before = await cost(testDatabase().sql);
    expect(before).not.toBe("1.1");
    const inside = await testDatabase().sql.begin(async (tx) => {
      await lockIdentities(tx, [randomUUID(), randomUUID()]);
      return cost(tx);
    });
    expect(inside).toBe("1.1");
    // The same connection (max: 1), after the commit: SET LOCAL ended with it.
    expect(await cost(testDatabase().sql)).toBe(before);
  });

  it("sets them ahead of the lock when the lock is sent with other statements", async () => {
    const [, shown] = await testDatabase().sql.begin((tx) =>
      pipeline([lockIdentities(tx, [randomUUID()]), cost(tx)]),
    );
    expect(shown).toBe("1.1");
  });
});
