import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useHarness } from "../../test/helpers/harness.js";
import { explainPlan } from "../../test/helpers/postgres.js";
import { deletionEvent, type Readiness } from "../../test/helpers/readiness.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { deletionPageStatement, FIRST_PAGE } from "../sql/select-deletion-page.js";
import { readinessStatement } from "../sql/select-readiness.js";

type Page = { items: Readiness[]; next_cursor: string | null };

/** A cursor of the service's shape (base64url JSON of a time and an id) around `time`. */
const forgedCursor = (time: string) =>
  Buffer.from(JSON.stringify([time, "11111111-2222-4333-8444-555555555555"])).toString("base64url");

/** CONTRACT §5: `GET /v1/deletions`, and the console's reads (history, service). */
describe("GET /v1/deletions", () => {
  const harness = useHarness();

  const list = async (query: string) => {
    const response = await harness().service.call("GET", `/v1/deletions?${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as Page;
  };
  const everyPage = async (query: string) => {
    const items: Readiness[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(`${query}${cursor ? `&cursor=${cursor}` : ""}`);
      items.push(...page.items);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null);
    return { items, pages };
  };

  it("pages through every request, newest first, by status, with no row twice", async () => {
    const { service, database } = harness();
    const pending = Array.from({ length: 30 }, () => randomUUID());
    const ready = Array.from({ length: 25 }, () => randomUUID());
    for (const id of pending) await service.requestDeletion(id, { acs_user_ids: [randomUUID()] });
    for (const id of ready) await service.requestDeletion(id);
    // Several requests in one instant: the id orders them, and no page boundary loses one.
    await database.sql`update pending_deletions set requested_at = '2026-11-30T12:00:00Z'
                       where user_identity_id = any(${pending.slice(0, 10)})`;

    const all = await everyPage("status=all&limit=7");
    expect(all.pages).toBe(Math.ceil(55 / 7));
    expect(new Set(all.items.map((r) => r.user_identity_id))).toEqual(
      new Set([...pending, ...ready]),
    );
    const times = all.items.map((r) => `${r.deletion?.requested_at}/${r.user_identity_id}`);
    expect(times).toEqual([...times].sort().reverse());

    const onlyPending = await everyPage("limit=8");
    expect(onlyPending.items.map((r) => r.user_identity_id).sort()).toEqual([...pending].sort());
    expect(onlyPending.items.every((r) => r.deletion?.status === "pending" && !r.ready)).toBe(true);
    const onlyReady = await everyPage("status=ready&limit=500");
    expect(onlyReady.pages).toBe(1);
    expect(onlyReady.items.map((r) => r.user_identity_id).sort()).toEqual([...ready].sort());
    expect((await list("")).items).toHaveLength(30); // the default limit is 50
  });

  it("answers 400 naming the field for a bad status, limit or cursor", async () => {
    const { service } = harness();
    for (const [query, field] of [
      ["status=done", "status"],
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["limit=ten", "limit"],
      ["cursor=bm90LWEtY3Vyc29y", "cursor"],
      // Well-formed cursors with times Postgres refuses (they were 500s): February 30th, a
      // bare number Date.parse takes for a year, the year 0, a NUL.
      ...[
        "2026-02-30T00:00:00.000000Z",
        "20000",
        "0000-01-01T00:00:00.000000Z",
        "2026-01-01T00:00:00.000000Z\u0000",
      ].map((time) => [`cursor=${forgedCursor(time)}`, "cursor"] as const),
    ] as const) {
      const response = await service.call("GET", `/v1/deletions?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_request", field } });
    }
  });

  it("reads the index, not the table, with 200,000 requests", async () => {
    const { service, database } = harness();
    await database.sql`
      insert into pending_deletions (user_identity_id, status, requested_at)
      select gen_random_uuid(), case when i % 3 = 0 then 'ready' else 'pending' end,
             now() - make_interval(secs => i)
      from generate_series(1, 200000) as i`;
    await database.sql`analyze pending_deletions`;
    // EXPLAIN ANALYZE of the very statements the list runs: its page and the readiness of
    // the page's 500 identities, each reading index entries, never the whole table.
    const page = deletionPageStatement({ status: "pending", after: FIRST_PAGE, limit: 501 });
    const ids = (
      await database.sql<{ id: string }[]>`
      select user_identity_id::text as id from pending_deletions
      order by requested_at desc limit 500`
    ).map((row) => row.id);
    for (const statement of [page, readinessStatement(ids)]) {
      const plan = await explainPlan(database.sql, statement);
      expect(plan).not.toMatch(/"Node Type":"Seq Scan"[^{}]*"Relation Name":"pending_deletions"/);
      expect(plan).toMatch(/Index (Only )?Scan/);
      expect(plan).not.toMatch(
        /"Relation Name":"pending_deletions"[^}]*"Actual Rows":\s*[1-9]\d{4,}/,
      );
    }
    const first = await list("status=pending&limit=500");
    expect(first.items).toHaveLength(500);
    void service;
  });
});

describe("GET …/deletion/history and /v1/service", () => {
  const harness = useHarness();

  it("dates the request, each deletion event and the ready; 404 without a request", async () => {
    const { service } = harness();
    const identity = randomUUID();
    const user = randomUUID();
    expect(
      (await service.call("GET", `/v1/user_identities/${identity}/deletion/history`)).status,
    ).toBe(404);
    await service.requestDeletion(identity, { acs_user_ids: [user] });
    expect((await service.sendEvent(deletionEvent("acs_user", user))).status).toBe(202);
    await waitFor(async () => (await service.readiness(identity)).ready);
    const response = await service.call("GET", `/v1/user_identities/${identity}/deletion/history`);
    expect(response.status).toBe(200);
    const history = (await response.json()) as {
      entries: { what: string; text: string; id?: string }[];
      steps: unknown[];
    };
    expect(history.entries.map((e) => e.what)).toEqual(["requested", "resource_deleted", "ready"]);
    expect(history.entries[1]).toMatchObject({
      id: user,
      text: `acs_user.deleted: acs_user ${user}`,
    });
    expect(history.steps).toEqual([]);
  });

  it("says whether deletions can be executed (no SEAM_API_KEY here)", async () => {
    const response = await harness().service.call("GET", "/v1/service");
    expect(await response.json()).toEqual({ execute: false });
  });
});
