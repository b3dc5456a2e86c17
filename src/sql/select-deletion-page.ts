import { sql } from "drizzle-orm";
import { type Db, runPrepared } from "../db/client.js";

/** Where a page starts: after this request time and identity, in the list's order. */
export type PageKey = { requestedAt: string; identityId: string };

/** The key before every row: the first page. */
export const FIRST_PAGE: PageKey = {
  requestedAt: "infinity",
  identityId: "ffffffff-ffff-ffff-ffff-ffffffffffff",
};

type PageRow = { user_identity_id: string; requested_at: string };

/**
 * One page of deletion requests, newest request first, after `after`: a keyset page that reads
 * `limit` index entries whatever the table's size (pending_deletions_status_list_idx with a
 * status, pending_deletions_list_idx without). `requested_at` comes back with microseconds,
 * so the next page's key is exact.
 */
type PageQuery = { status: "pending" | "ready" | "all"; after: PageKey; limit: number };

/** The statement, apart, so a test can EXPLAIN exactly what runs. */
export const deletionPageStatement = (query: PageQuery) => {
  const key = sql`(d.requested_at, d.user_identity_id) <
                  (${query.after.requestedAt}::text::timestamptz, ${query.after.identityId}::uuid)`;
  const at = sql.raw(
    `to_char(d.requested_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as requested_at`,
  );
  return query.status === "all"
    ? sql`
        select d.user_identity_id::text, ${at} from pending_deletions d
        where ${key}
        order by d.requested_at desc, d.user_identity_id desc limit ${query.limit}`
    : sql`
        select d.user_identity_id::text, ${at} from pending_deletions d
        where d.status = ${query.status} and ${key}
        order by d.requested_at desc, d.user_identity_id desc limit ${query.limit}`;
};

export const selectDeletionPage = (db: Db, query: PageQuery) =>
  runPrepared<PageRow>(db, deletionPageStatement(query));
