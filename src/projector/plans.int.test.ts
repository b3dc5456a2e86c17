import { randomUUID } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import type { TransactionSql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, explainPlan, type TestDatabase } from "../../test/helpers/postgres.js";
import { deletionEvent, replayJob } from "../../test/helpers/readiness.js";
import { arrayParam } from "../db/client.js";
import { favourKeyLookups } from "../sql/favour-key-lookups.js";
import { lockIdentitiesStatement } from "../sql/lock-identities.js";
import { lockResourcesStatement } from "../sql/lock-resources.js";
import { recordEventsStatement } from "../sql/record-events.js";
import { refreshDeletionsOf, refreshDeletionsStatement } from "../sql/refresh-deletions.js";
import { runningExecutionsStatement } from "../sql/select-executions.js";
import { readinessStatement } from "../sql/select-readiness.js";
import { writeResourcesStatement } from "../sql/write-resources.js";
import { applyBatch } from "./apply.js";
import { type Classified, classifyJob } from "./classify.js";

const FILLED = 5_000;
/**
 * Identities with two linked resources each, a deletion request and a completed execution,
 * beside the events.
 */
const IDENTITIES = 10_000;

const classified = (event: Record<string, unknown>) =>
  classifyJob(replayJob(event)) as Extract<Classified, { kind: "projected" }>;

/**
 * The projection's statements after a bulk fill that no ANALYZE has seen (a new deployment, a
 * restore, the bench's drain from emptied tables), beside 10,000 deletion requests with their
 * executions: each must still reach the rows it needs by their key, in a custom plan and in the
 * generic plan a prepared statement may switch to. A plan that scans or hashes a whole table
 * makes every batch pay for the table's size. It did in the bench for the event record's read
 * of the stored hashes (which this test catches at Postgres's default costs), for the resource
 * writes (measured by hand, on the bench's database: see sql/write-resources.ts; this fill does
 * not bring the planner to that plan), and for the refresh of the deletion requests, which this
 * fill does bring to a scan of the whole table at default costs (the control below).
 */
describe("projection statements on filled tables", () => {
  let database: TestDatabase;
  let stored: ReturnType<typeof classified>[] = [];
  let identities: string[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    // No ANALYZE behind the test's back: the statistics stay those of the empty template.
    for (const table of ["events", "resources", "pending_deletions", "executions"]) {
      await database.sql.unsafe(`alter table ${table} set (autovacuum_enabled = false)`);
    }
    const linked = await database.sql<{ id: string }[]>`
      with ids as (select gen_random_uuid() as id from generate_series(1, ${IDENTITIES})),
      linked as (
        insert into resources (resource_type, resource_id, state, user_identity_id, linked_at)
        select t, gen_random_uuid(), 'unknown', ids.id, now()
        from ids, unnest(array['acs_user', 'phone']) as t
      )
      , requested as (
        insert into pending_deletions (user_identity_id, status)
        select id, 'pending' from ids
        returning user_identity_id
      )
      insert into executions (user_identity_id, execution_id, strategy, status, finished_at)
      select user_identity_id, gen_random_uuid(), 'stepwise', 'completed', now() from requested
      returning user_identity_id::text as id`;
    identities = linked.slice(0, 50).map((row) => row.id);
    for (let filled = 0; filled < FILLED; filled += 500) {
      const batch = Array.from({ length: 500 }, () =>
        classified(deletionEvent("phone", randomUUID())),
      );
      await applyBatch(database.db, batch);
      if (filled === 0) stored = batch.slice(0, 100);
    }
  }, 60_000);
  afterAll(async () => {
    await database?.drop();
  });

  /** Runs `work` in a transaction that always rolls back (EXPLAIN ANALYZE runs the writes). */
  const rolledBack = async <T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> => {
    let result: T | undefined;
    await database.sql
      .begin(async (tx) => {
        result = await work(tx);
        throw new Rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error;
      });
    return result as T;
  };

  // With the identity lock's planner costs, every statement; with Postgres's defaults, those
  // that also run without the lock (the refresh depends on the costs: sql/favour-key-lookups.ts).
  it.each([
    ["custom", "the projector's costs"],
    ["generic", "the projector's costs"],
    ["custom", "default costs"],
    ["generic", "default costs"],
  ])("finds the batch's rows by key (%s plan, %s)", async (mode, costs) => {
    const projectorCosts = costs === "the projector's costs";
    // Half of the batch repeats stored events (their hashes are read back), half is new.
    const batch = [
      ...stored,
      ...Array.from({ length: 100 }, () => classified(deletionEvent("phone", randomUUID()))),
    ];
    const rows = batch.map((item) => ({ ...item.record, outcome: item.kind, error: null }));
    const keys = batch.map(({ change }) => ({ type: change.type, id: change.id }));
    const writes = batch.map(({ change }) => ({
      type: change.type,
      id: change.id,
      state: change.state,
      workspaceId: change.workspaceId,
      eventId: change.eventId,
      eventType: change.eventType,
      occurredAt: change.occurredAt,
    }));
    const statements: [string, SQL][] = [
      ["the event record", recordEventsStatement(rows)],
      ["the resource locks", lockResourcesStatement(keys)],
      ["the resource writes", writeResourcesStatement(writes)],
      // At both costs: it runs in identity-locked transactions (a deletion request's answer)
      // and on the pool (GET, and the waiters' read after a wake), on the same connections.
      ["the readiness read", readinessStatement(identities)],
    ];
    statements.push(
      ["the identity locks", lockIdentitiesStatement(identities)],
      ["the refresh", refreshDeletionsStatement(identities)],
      ["the executions' read", runningExecutionsStatement(identities)],
    );
    await rolledBack(async (tx) => {
      // As every identity-locked transaction does (sql/lock-identities.ts).
      if (projectorCosts) await favourKeyLookups(tx);
      for (const [name, statement] of statements) {
        const plan = await explainPlan(tx, statement, { generic: mode === "generic" });
        const named = () => expect(plan, name);
        named().not.toMatch(
          /"Node Type":"Seq Scan"[^{}]*"Relation Name":"(events|resources|pending_deletions|executions)"/,
        );
        // No node reads anything near a whole table: a batch touches 200 rows, 50 identities.
        named().not.toMatch(/"Actual Rows":\s*[1-9]\d{3,}/);
      }
    });
  });

  // The control: this fill is one that misleads the planner. The refresh as it was written
  // before its ids went as json (a `uuid[]` parameter, whose length the planner sees: 50) is
  // planned at default costs as a scan of every deletion request, hashed; the cases above would
  // catch a statement that came to such a plan.
  it("plans the refresh with a uuid[] of 50 ids as a scan of every deletion request at default costs (the control)", async () => {
    const arrayForm = refreshDeletionsOf(sql`${arrayParam(identities)}::uuid[]`);
    const plan = await rolledBack((tx) => explainPlan(tx, arrayForm));
    expect(plan).toMatch(/"Node Type":"Seq Scan"[^{}]*"Relation Name":"pending_deletions"/);
  });
});

class Rollback extends Error {}
