import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/postgres.js";
import { deletionEvent, replayJob } from "../../test/helpers/readiness.js";
import type { Tx } from "../db/client.js";
import { favourKeyLookups } from "../sql/favour-key-lookups.js";
import { lockIdentities } from "../sql/lock-identities.js";
import { lockResources } from "../sql/lock-resources.js";
import { recordEvents } from "../sql/record-events.js";
import { refreshDeletions } from "../sql/refresh-deletions.js";
import { selectRunningExecutions } from "../sql/select-executions.js";
import { selectReadiness } from "../sql/select-readiness.js";
import { writeResources } from "../sql/write-resources.js";
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

/** A parameter as an SQL literal: a string quoted, an array as ARRAY[…] of its elements. */
const literal = (value: unknown): string => {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `array[${value.map(literal).join(", ")}]`;
  if (typeof value === "number") return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
};

/** The text and parameters a statement builder would send, without sending anything. */
const statementOf = (build: (tx: Tx) => unknown) => {
  let statement: { text: string; params: unknown[] } | undefined;
  const recorder = {
    unsafe: (text: string, params: unknown[]) => {
      statement = { text, params };
      return { execute: () => undefined };
    },
  };
  build(recorder as unknown as Tx);
  if (statement === undefined) throw new Error("the builder sent no statement");
  return statement;
};

/**
 * The projection's statements after a bulk fill that no ANALYZE has seen (a new deployment, a
 * restore, the bench's drain from emptied tables), beside 10,000 deletion requests with their
 * executions: each must still reach the rows it needs by their key, in a custom plan and in the
 * generic plan a prepared statement may switch to. A plan that scans or hashes a whole table
 * makes every batch pay for the table's size. It did in the bench for the event record's read
 * of the stored hashes (which this test catches at Postgres's default costs), for the resource
 * writes, and for the refresh of the deletion requests (both measured by hand, on the bench's
 * database: see sql/write-resources.ts and sql/favour-key-lookups.ts; this fill does not bring
 * the planner to those plans).
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

  // With the projector's planner costs, every statement; with Postgres's defaults, those that
  // must not depend on them (the refresh does: sql/favour-key-lookups.ts).
  it.each([
    ["force_custom_plan", "the projector's costs"],
    ["force_generic_plan", "the projector's costs"],
    ["force_custom_plan", "default costs"],
    ["force_generic_plan", "default costs"],
  ])("finds the batch's rows by key (%s, %s)", async (mode, costs) => {
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
    const statements = [
      statementOf((tx) => recordEvents(tx, rows)),
      statementOf((tx) => lockResources(tx, keys)),
      statementOf((tx) => writeResources(tx, writes)),
    ].concat(
      projectorCosts
        ? [
            // The readiness side: the identity locks, the refresh and its NOTIFY, the executions'
            // read, and the readiness read after a wake.
            statementOf((tx) => lockIdentities(tx, identities)),
            statementOf((tx) => refreshDeletions(tx, identities)),
            statementOf((tx) => selectRunningExecutions(tx, identities)),
            statementOf((tx) => selectReadiness(tx, identities)),
          ]
        : [],
    );
    await database.sql
      .begin(async (tx) => {
        // As applyBatch's transaction does.
        if (projectorCosts) await favourKeyLookups(tx);
        await tx.unsafe(`set local plan_cache_mode = ${mode}`);
        for (const [index, { text, params }] of statements.entries()) {
          // EXPLAIN of a statement with bound values plans it for those values; a generic plan
          // (what a named prepared statement may switch to after five runs) shows only through
          // a prepared statement and EXPLAIN EXECUTE.
          const name = `planned_${mode}_${index}`;
          await tx.unsafe(`prepare ${name} as ${text}`);
          const [prepared] = await tx<{ types: string[] }[]>`
              select parameter_types::text[] as types from pg_prepared_statements
              where name = ${name}`;
          // EXPLAIN EXECUTE takes no bound parameters: the values go in as literals.
          const args = (prepared?.types ?? []).map(
            (type, slot) => `${literal(params[slot])}::${type}`,
          );
          const [row] = await tx
            .unsafe(`explain (analyze, format json) execute ${name}(${args.join(", ")})`)
            .finally(() => tx.unsafe(`deallocate ${name}`).catch(() => undefined));
          const plan = JSON.stringify(row);
          const named = () => expect(plan, text.replace(/\s+/g, " ").slice(0, 80));
          named().not.toMatch(
            /"Node Type":"Seq Scan"[^{}]*"Relation Name":"(events|resources|pending_deletions|executions)"/,
          );
          // No node reads anything near a whole table: a batch touches 200 rows, 50 identities.
          named().not.toMatch(/"Actual Rows":\s*[1-9]\d{3,}/);
        }
        throw new Rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error;
      });
  });
});

class Rollback extends Error {}
