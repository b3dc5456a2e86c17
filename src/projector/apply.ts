import { type SQL, sql } from "drizzle-orm";
import { arrayParam, type Db, runPrepared } from "../db/client.js";
import { lockIdentitiesQuery, refreshDeletionsQuery } from "../readiness/resolve.js";
import type { ResourceType } from "../shared/resources.js";
import type { Classified, EventRecord } from "./classify.js";
import { evolve, type ResourceChange, type ResourceState, sameState } from "./evolve/index.js";

/** What became of one job: `duplicate` when its event id was already recorded. */
export type ApplyResult =
  | { kind: "projected" | "ignored" | "duplicate" }
  | { kind: "poison"; error: string };

type ResourceRow = {
  resource_type: ResourceType;
  resource_id: string;
  user_identity_id: string | null;
  state: ResourceState["state"];
  workspace_id: string | null;
  event_id: string | null;
  event_type: string | null;
  event_occurred_at: string | null;
};

const keyOf = (type: string, id: string) => `${type}/${id}`;

const toState = (row: ResourceRow): ResourceState => ({
  state: row.state,
  workspaceId: row.workspace_id,
  eventId: row.event_id,
  eventType: row.event_type,
  occurredAt: row.event_occurred_at === null ? null : Date.parse(row.event_occurred_at),
});

/**
 * Records the events; returns the ids that are new. A poison event recorded earlier may be
 * re-driven: its row is overwritten with the new outcome and it counts as new again.
 */
const recordEventsQuery = (
  items: { record: EventRecord; outcome: string; error: string | null }[],
): SQL => {
  const col = <K extends keyof EventRecord>(key: K) => items.map((item) => item.record[key]);
  return sql`
    insert into events (event_id, event_type, workspace_id, occurred_at, received_at, recorded_at,
                        source, payload, outcome, error)
    select e.event_id, e.event_type, e.workspace_id, e.occurred_at, e.received_at, now(),
           e.source, e.payload, e.outcome, e.error
    from unnest(${arrayParam(col("eventId"))}::text[], ${arrayParam(col("eventType"))}::text[], ${arrayParam(col("workspaceId"))}::text[],
                ${arrayParam(col("occurredAt"))}::text[]::timestamptz[], ${arrayParam(col("receivedAt"))}::text[]::timestamptz[],
                ${arrayParam(col("source"))}::text[], ${arrayParam(col("payload"))}::text[],
                ${arrayParam(items.map((i) => i.outcome))}::text[], ${arrayParam(items.map((i) => i.error))}::text[])
         as e(event_id, event_type, workspace_id, occurred_at, received_at, source, payload, outcome, error)
    on conflict (event_id) do update
      set outcome = excluded.outcome, error = excluded.error, recorded_at = excluded.recorded_at
      where events.outcome = 'poison'
    returning event_id`;
};

/**
 * Locks every touched resource row, creating placeholders for resources never seen, and returns
 * their current state. Rows are locked in key order so concurrent batches cannot deadlock.
 */
const lockResourcesQuery = (keys: { type: string; id: string }[]): SQL => sql`
    insert into resources (resource_type, resource_id, state)
    select k.resource_type, k.resource_id, 'unknown'
    from unnest(${arrayParam(keys.map((k) => k.type))}::text[], ${arrayParam(keys.map((k) => k.id))}::uuid[])
         as k(resource_type, resource_id)
    order by k.resource_type, k.resource_id
    on conflict (resource_type, resource_id) do update set resource_type = excluded.resource_type
    returning resource_type, resource_id, user_identity_id, state, workspace_id, event_id,
              event_type, event_occurred_at::text`;

const writeResourcesQuery = (rows: { type: string; id: string; next: ResourceState }[]): SQL => sql`
    update resources r
    set state = u.state, workspace_id = u.workspace_id, event_id = u.event_id,
        event_type = u.event_type, event_occurred_at = u.event_occurred_at, updated_at = now()
    from unnest(${arrayParam(rows.map((r) => r.type))}::text[], ${arrayParam(rows.map((r) => r.id))}::uuid[],
                ${arrayParam(rows.map((r) => r.next.state))}::text[], ${arrayParam(rows.map((r) => r.next.workspaceId))}::text[],
                ${arrayParam(rows.map((r) => r.next.eventId))}::text[], ${arrayParam(rows.map((r) => r.next.eventType))}::text[],
                ${arrayParam(rows.map((r) => (r.next.occurredAt === null ? null : new Date(r.next.occurredAt).toISOString())))}::text[]::timestamptz[])
         as u(resource_type, resource_id, state, workspace_id, event_id, event_type, event_occurred_at)
    where r.resource_type = u.resource_type and r.resource_id = u.resource_id`;

/**
 * Sends `queries` together and waits for every answer (not just the first failure: a connection
 * goes back to the pool only once nothing is in flight on it); throws the first error.
 */
const pipeline = async <T extends unknown[]>(queries: { [K in keyof T]: Promise<T[K]> }) => {
  const settled = await Promise.allSettled(queries);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
};

/** What the batch changes, computed from the rows it locked: pure. */
const evolveLocked = (
  changes: ResourceChange[],
  locked: ResourceRow[],
): { updates: { type: string; id: string; next: ResourceState }[]; unblocked: string[] } => {
  const rows = new Map(locked.map((row) => [keyOf(row.resource_type, row.resource_id), row]));
  const byKey = new Map<string, { type: ResourceType; id: string; changes: ResourceChange[] }>();
  for (const change of changes) {
    const key = keyOf(change.type, change.id);
    const entry = byKey.get(key) ?? { type: change.type, id: change.id, changes: [] };
    entry.changes.push(change);
    byKey.set(key, entry);
  }
  const updates: { type: string; id: string; next: ResourceState }[] = [];
  const unblocked = new Set<string>();
  for (const [key, entry] of byKey) {
    const row = rows.get(key);
    if (row === undefined) throw new Error(`resource ${key} was not locked`);
    const before = toState(row);
    const after = entry.changes.reduce(evolve, before);
    if (sameState(before, after)) continue;
    updates.push({ type: entry.type, id: entry.id, next: after });
    if (before.state !== "deleted" && after.state === "deleted" && row.user_identity_id !== null) {
      unblocked.add(row.user_identity_id);
    }
  }
  return { updates, unblocked: [...unblocked] };
};

/**
 * Applies a batch of classified events in one transaction: record each event id (a repeat
 * changes nothing), fold the new changes into the resources with evolve(), then bring the
 * pending deletions of the identities whose blockers changed up to date and notify their
 * waiters. Either all of it commits or none of it does.
 *
 * Prepared statements in two flights: BEGIN, then the event record and the row locks of every
 * resource the batch names, sent together; then the writes, the identity locks, the refresh and
 * COMMIT, sent together. The locks are taken before the new event ids are known, so a batch of
 * repeats locks rows it will not change: repeats are rare, and a round trip per batch is not.
 * COMMIT of a transaction in which a statement failed rolls back without an error of its own,
 * so the writes' answers, awaited after it, are what say whether the batch committed.
 * (BEGIN could join the first flight on a reserved connection, but postgres.js 3.4 puts a
 * reserved connection that died back in its pool, where the next query on it hangs.)
 */
export const applyBatch = async (db: Db, batch: Classified[]): Promise<ApplyResult[]> => {
  // The same event twice in one batch is recorded once; the second copy is a duplicate.
  const firstIndex = new Map<string, number>();
  batch.forEach((item, index) => {
    if (!firstIndex.has(item.record.eventId)) firstIndex.set(item.record.eventId, index);
  });
  const unique = [...firstIndex.values()].map((index) => batch[index] as Classified);
  const projected = unique.filter(
    (item): item is Extract<Classified, { kind: "projected" }> => item.kind === "projected",
  );
  const keys = new Map<string, { type: string; id: string }>();
  for (const { change } of projected) {
    keys.set(keyOf(change.type, change.id), { type: change.type, id: change.id });
  }

  const writes: Promise<unknown>[] = [];
  const fresh = await db.$client.begin(async (tx) => {
    const [recorded, locked] = await pipeline<[{ event_id: string }[], ResourceRow[]]>([
      runPrepared<{ event_id: string }>(
        tx,
        recordEventsQuery(
          unique.map((item) => ({
            record: item.record,
            outcome: item.kind,
            error: item.kind === "poison" ? item.error : null,
          })),
        ),
      ),
      keys.size === 0
        ? Promise.resolve([])
        : runPrepared<ResourceRow>(tx, lockResourcesQuery([...keys.values()])),
    ]);
    const fresh = new Set(recorded.map((row) => row.event_id));
    const { updates, unblocked } = evolveLocked(
      projected.filter((item) => fresh.has(item.record.eventId)).map((item) => item.change),
      locked,
    );
    // Sent now (postgres.js sends a query when it is awaited or executed) and not awaited:
    // postgres.js sends COMMIT as soon as this returns, behind them on the same connection.
    if (updates.length > 0) writes.push(runPrepared(tx, writeResourcesQuery(updates)).execute());
    if (unblocked.length > 0) {
      writes.push(runPrepared(tx, lockIdentitiesQuery(unblocked)).execute());
      writes.push(runPrepared(tx, refreshDeletionsQuery(unblocked)).execute());
    }
    return fresh;
  });
  // Only after a commit: when the transaction ended otherwise (a lost connection), a write may
  // never have been sent and its promise never settle. postgres.js has observed its failure.
  await pipeline(writes);

  return batch.map((item, index) => {
    if (firstIndex.get(item.record.eventId) !== index || !fresh.has(item.record.eventId)) {
      return { kind: "duplicate" };
    }
    return item.kind === "poison" ? { kind: "poison", error: item.error } : { kind: item.kind };
  });
};
