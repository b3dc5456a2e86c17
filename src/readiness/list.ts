import type { Db } from "../db/client.js";
import { AppError } from "../errors.js";
import { UUID } from "../shared/ids.js";
import type { Readiness } from "../shared/readiness.js";
import { FIRST_PAGE, type PageKey, selectDeletionPage } from "../sql/select-deletion-page.js";
import { readReadiness } from "./readiness.js";

/** The cursor is opaque to clients: the last row's key, as base64url JSON. */
const encodeCursor = (key: PageKey) =>
  Buffer.from(JSON.stringify([key.requestedAt, key.identityId])).toString("base64url");

/** `requested_at` as the page query writes it: UTC, microseconds (sql/select-deletion-page.ts). */
const CURSOR_TIME = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Only a time the service could have written: Date.parse takes `2026-02-30` or `20000`, which
 * Postgres then refuses, and a forged cursor must be a 400, not a 500. The calendar fields must
 * survive a round trip through Date (no February 30th), in years Postgres and the list hold.
 */
const isCursorTime = (value: string): boolean => {
  const match = CURSOR_TIME.exec(value);
  if (match === null) return false;
  const year = Number(match[1]);
  if (year < 2000 || year > 9999) return false;
  const millis = `${value.slice(0, 23)}Z`;
  const parsed = Date.parse(millis);
  return !Number.isNaN(parsed) && new Date(parsed).toISOString() === millis;
};

const decodeCursor = (cursor: string): PageKey => {
  try {
    const [requestedAt, identityId] = JSON.parse(Buffer.from(cursor, "base64url").toString()) as [
      unknown,
      unknown,
    ];
    if (
      typeof requestedAt === "string" &&
      typeof identityId === "string" &&
      isCursorTime(requestedAt) &&
      UUID.test(identityId)
    ) {
      return { requestedAt, identityId };
    }
  } catch {
    // falls through to the 400
  }
  throw new AppError("invalid_request", "cursor is not one this service gave", "cursor");
};

export type DeletionPage = { items: Readiness[]; next_cursor: string | null };

/**
 * `GET /v1/deletions`: a page of deletion requests as readiness objects, newest request first.
 * One more row than asked is read to know whether a next page exists.
 */
export const listDeletions = async (
  db: Db,
  query: { status: "pending" | "ready" | "all"; limit: number; cursor?: string | undefined },
): Promise<DeletionPage> => {
  const after = query.cursor === undefined ? FIRST_PAGE : decodeCursor(query.cursor);
  const rows = await selectDeletionPage(db, {
    status: query.status,
    after,
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const states = await readReadiness(
    db,
    page.map((row) => row.user_identity_id),
  );
  const items = page.flatMap((row) => {
    const readiness = states.get(row.user_identity_id);
    // Cancelled between the two reads: left out rather than shown without its deletion.
    return readiness?.deletion ? [readiness] : [];
  });
  const last = page.at(-1);
  return {
    items,
    next_cursor:
      rows.length > query.limit && last !== undefined
        ? encodeCursor({ requestedAt: last.requested_at, identityId: last.user_identity_id })
        : null,
  };
};
