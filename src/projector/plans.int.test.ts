import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/postgres.js";
import { deletionEvent, replayJob } from "../../test/helpers/readiness.js";
import type { Tx } from "../db/client.js";
import { lockIdentities } from "../sql/lock-identities.js";
import { lockResources } from "../sql/lock-resources.js";
import { recordEvents } from "../sql/record-events.js";
import { refreshDeletions } from "../sql/refresh-deletions.js";
import { selectRunningExecutions } from "../sql/select-executions.js";
import { selectReadiness } from "../sql/select-readiness.js";
import { writeResources } from "../sql/write-resources.js";
import { applyBatch } from "./apply.js";
import { type Classified, classifyJob } from "./classify.js";

const FILLED = 20_000;
/** Identities with two linked resources each and a pending deletion, beside the events. */
const IDENTITIES = 10_000;

const classified = (event: Record<string, unknown>) =>
  classifyJob(replayJob(event)) as Extract<Classified, { kind: "projected" }>;

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
 * restore, the bench's drain from emptied tables), beside 10,000 deletion requests: each must
 * still reach the rows it needs by their key. A plan that scans or hashes a whole table makes
 * every batch pay for the table's size: it did, in the bench, for the event record's read of
 * the stored hashes and for the resource writes (stale statistics), and for the refresh of the
 * deletion requests (the planner's default random_page_cost, which db/client.ts sets lower).
 */
describe("projection statements on filled tables", () => {
  let database: TestDatabase;
  let stored: ReturnType<typeof classified>[] = [];
  let identities: string[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    const linked = await database.sql<{ id: string }[]>`
      with ids as (select gen_random_uuid() as id from generate_series(1, ${IDENTITIES})),
      linked as (
        insert into resources (resource_type, resource_id, state, user_identity_id, linked_at)
        select t, gen_random_uuid(), 'unknown', ids.id, now()
        from ids, unnest(array['acs_user', 'phone']) as t
      )
      insert into pending_deletions (user_identity_id, status)
      select id, 'pending' from ids
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

  it.each(["force_custom_plan", "force_generic_plan"])(
    "finds the batch's rows by key (%s)",
    async (mode) => {
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
        // The readiness side: the identity locks, the refresh and its NOTIFY, the executions'
        // read, and the readiness read after a wake.
        statementOf((tx) => lockIdentities(tx, identities)),
        statementOf((tx) => refreshDeletions(tx, identities)),
        statementOf((tx) => selectRunningExecutions(tx, identities)),
        statementOf((tx) => selectReadiness(tx, identities)),
      ];
      await database.sql
        .begin(async (tx) => {
          await tx.unsafe(`set local plan_cache_mode = ${mode}`);
          for (const { text, params } of statements) {
            const [row] = await tx.unsafe(
              `explain (analyze, format json) ${text}`,
              params as never[],
            );
            const plan = JSON.stringify(row);
            const named = expect(plan, text.replace(/\s+/g, " ").slice(0, 80));
            named.not.toMatch(/"Node Type":"Seq Scan"[^{}]*"Relation Name":"(events|resources)"/);
            // No node reads anything near a whole table: a batch touches 200 rows, 50 identities.
            named.not.toMatch(/"Actual Rows":\s*[1-9]\d{3,}/);
          }
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
    },
  );
});

class Rollback extends Error {}
