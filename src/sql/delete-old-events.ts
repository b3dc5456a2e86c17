import { sql } from "drizzle-orm";
import { type Db, runPrepared } from "../db/client.js";

/**
 * Deletes at most `limit` events received before `before`, oldest first; returns how many.
 * Rows another transaction holds (a projection batch recording a re-driven event) are skipped,
 * not waited for, and the statement is a transaction of its own: retention never holds a lock
 * the projection needs for longer than one small batch. Only the event log is pruned; resources
 * and pending deletions are state, never history.
 */
export const deleteOldEvents = (db: Db, before: Date, limit: number) =>
  runPrepared<{ deleted: number }>(
    db,
    sql`
    with doomed as (
      select event_id from events
      where received_at < ${before.toISOString()}::timestamptz
      order by received_at
      limit ${limit}
      for update skip locked
    ), deleted as (
      delete from events where event_id in (select event_id from doomed) returning 1
    )
    select count(*)::int as deleted from deleted`,
  );
