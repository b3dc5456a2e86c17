import { type Db, pipeline } from "../db/client.js";
import { type AdvanceOptions, advanceExecutions, type FollowUp } from "../execution/advance.js";
import { lockIdentities } from "../sql/lock-identities.js";
import { type LockedResource, lockResources, type ResourceKey } from "../sql/lock-resources.js";
import { type RecordedEvent, recordEvents } from "../sql/record-events.js";
import { refreshDeletions } from "../sql/refresh-deletions.js";
import { type ResourceWrite, writeResources } from "../sql/write-resources.js";
import type { Classified } from "./classify.js";
import { evolve, type ResourceChange, type ResourceState, sameState } from "./evolve.js";

/**
 * What became of one job: `duplicate` when its event id was already recorded with this body,
 * `conflict` when with another one (nothing changes either way). A projected job carries its
 * classified change, for what follows a commit (Seam enrichment).
 */
export type ApplyResult =
  | { kind: "ignored" | "duplicate" | "conflict" }
  | { kind: "projected"; change: ResourceChange }
  | { kind: "poison"; error: string };

const keyOf = (type: string, id: string) => `${type}/${id}`;

const toState = (row: LockedResource): ResourceState => ({
  state: row.state,
  workspaceId: row.workspace_id,
  eventId: row.event_id,
  eventType: row.event_type,
  occurredAt: row.event_occurred_at === null ? null : Date.parse(row.event_occurred_at),
});

/**
 * What the batch changes, computed from the rows it locked: pure. Only the changes of new
 * events are folded in (`fresh`).
 *
 * `deletedLinked`: identities with a linked resource that this batch reports deleted, its event
 * new or a repeat: their executions are advanced. A repeat counts because an execution's next
 * calls are queued only after the commit that advanced it; if that queueing failed, the
 * event's job is retried, and its repeat must queue them again.
 */
const evolveLocked = (
  changes: { change: ResourceChange; fresh: boolean }[],
  locked: LockedResource[],
): { updates: ResourceWrite[]; unblocked: string[]; deletedLinked: string[] } => {
  const rows = new Map(locked.map((row) => [keyOf(row.resource_type, row.resource_id), row]));
  const byKey = new Map<string, { key: ResourceKey; changes: ResourceChange[] }>();
  const deletedLinked = new Set<string>();
  for (const { change, fresh } of changes) {
    const key = keyOf(change.type, change.id);
    const owner = rows.get(key)?.user_identity_id;
    if (change.state === "deleted" && owner !== null && owner !== undefined) {
      deletedLinked.add(owner);
    }
    if (!fresh) continue;
    const entry = byKey.get(key) ?? { key: { type: change.type, id: change.id }, changes: [] };
    entry.changes.push(change);
    byKey.set(key, entry);
  }
  const updates: ResourceWrite[] = [];
  const unblocked = new Set<string>();
  for (const [key, entry] of byKey) {
    const row = rows.get(key);
    if (row === undefined) throw new Error(`resource ${key} was not locked`);
    const before = toState(row);
    const after = entry.changes.reduce(evolve, before);
    if (sameState(before, after)) continue;
    // A literal, not two spreads: this runs once per resource changed, and spreads of objects of
    // several shapes were the loop's most costly line in a profile of the drain.
    updates.push({
      type: entry.key.type,
      id: entry.key.id,
      state: after.state,
      workspaceId: after.workspaceId,
      eventId: after.eventId,
      eventType: after.eventType,
      occurredAt: after.occurredAt,
    });
    if (before.state !== "deleted" && after.state === "deleted" && row.user_identity_id !== null) {
      unblocked.add(row.user_identity_id);
    }
  }
  return { updates, unblocked: [...unblocked], deletedLinked: [...deletedLinked] };
};

export type ApplyOptions = {
  /**
   * With SEAM_API_KEY (executions exist only then): advance the executions that the batch's
   * deletions concern, in its transaction (execution/advance.ts).
   */
  advance?: AdvanceOptions;
};

export type BatchResult = {
  results: ApplyResult[];
  /** What the executions advanced by the batch leave to do once it has committed. */
  followUps: FollowUp[];
};

/**
 * Applies a batch of classified events in one transaction: record each event id (a repeat
 * changes nothing), fold the new changes into the resources with evolve(), then bring the
 * pending deletions of the identities whose blockers changed up to date and notify their
 * waiters. Either all of it commits or none of it does.
 *
 * Prepared statements in two round trips: BEGIN with the event record and the row locks of
 * every resource the batch names, sent together (postgres.js is patched to send a transaction's
 * first statements behind BEGIN: patches/postgres+3.4.9.patch); then the writes, the identity
 * locks (with the planner's costs, sql/favour-key-lookups.ts), the refresh and COMMIT, sent
 * together. A batch that deletes a linked resource, with SEAM_API_KEY, takes one round trip
 * more to read the identities' running executions, and one more to write their plans when
 * there are any (execution/advance.ts). The locks are taken before the new event ids are
 * known, so a batch of repeats locks rows it will not change: repeats are rare, and a round
 * trip per batch is not. COMMIT of a transaction in which a statement failed rolls back
 * without an error of its own, so the writes' answers, awaited after it, are what say whether
 * the batch committed.
 */
export const applyBatch = async (
  db: Db,
  batch: Classified[],
  options: ApplyOptions = {},
): Promise<BatchResult> => {
  // The same event twice in one batch is recorded once; the second copy is a duplicate.
  const firstIndex = new Map<string, number>();
  batch.forEach((item, index) => {
    if (!firstIndex.has(item.record.eventId)) firstIndex.set(item.record.eventId, index);
  });
  const unique = [...firstIndex.values()].map((index) => batch[index] as Classified);
  const projected = unique.filter(
    (item): item is Extract<Classified, { kind: "projected" }> => item.kind === "projected",
  );
  const keys = new Map<string, ResourceKey>();
  for (const { change } of projected) {
    keys.set(keyOf(change.type, change.id), { type: change.type, id: change.id });
  }

  const writes: Promise<unknown>[] = [];
  const conflicts = new Set<string>();
  let followUps: FollowUp[] = [];
  const fresh = await db.begin(async (tx) => {
    const [recorded, locked] = await pipeline<[RecordedEvent[], LockedResource[]]>([
      recordEvents(
        tx,
        unique.map((item) => item.record),
      ),
      keys.size === 0 ? Promise.resolve([]) : lockResources(tx, [...keys.values()]),
    ]);
    const fresh = new Set(recorded.filter((row) => row.fresh).map((row) => row.event_id));
    for (const row of recorded) if (row.conflict) conflicts.add(row.event_id);
    const { updates, unblocked, deletedLinked } = evolveLocked(
      projected.map((item) => ({ change: item.change, fresh: fresh.has(item.record.eventId) })),
      locked,
    );
    // Sent now (postgres.js sends a query when it is awaited or executed) and not awaited:
    // postgres.js sends COMMIT as soon as this returns, behind them on the same connection.
    if (updates.length > 0) writes.push(writeResources(tx, updates).execute());
    const advancing = options.advance ? deletedLinked : [];
    // One lock statement for every identity touched, so the locks are taken in one sorted order.
    const touched = [...new Set([...unblocked, ...advancing])];
    if (touched.length > 0) writes.push(lockIdentities(tx, touched).execute());
    if (unblocked.length > 0) writes.push(refreshDeletions(tx, unblocked).execute());
    if (options.advance && advancing.length > 0) {
      // One more round trip, only for a batch that deletes a linked resource: the plan needs
      // the executions' rows, read after the writes above on the same connection.
      followUps = await advanceExecutions(tx, advancing, options.advance);
    }
    return fresh;
  });
  // Only after a commit: when the transaction ended otherwise (a lost connection), a write may
  // never have been sent and its promise never settle. postgres.js has observed its failure.
  await pipeline(writes);

  const results = batch.map((item, index): ApplyResult => {
    const first = firstIndex.get(item.record.eventId) as number;
    if (first !== index || !fresh.has(item.record.eventId)) {
      // A copy in this batch is held to the copy recorded first, the others to the stored row.
      const conflict =
        first === index
          ? conflicts.has(item.record.eventId)
          : batch[first]?.record.payloadSha256 !== item.record.payloadSha256 ||
            conflicts.has(item.record.eventId);
      return { kind: conflict ? "conflict" : "duplicate" };
    }
    if (item.kind === "poison") return { kind: "poison", error: item.error };
    if (item.kind === "projected") return { kind: "projected", change: item.change };
    return { kind: "ignored" };
  });
  return { results, followUps };
};
