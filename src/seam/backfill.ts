import type { Db } from "../db/client.js";
import { addEvents, type EventsQueue } from "../ingest/queue.js";
import { selectRecordedEventIds } from "../sql/select-recorded-event-ids.js";
import type { EventsFilter, SeamApi, SeamEventJson } from "./api.js";

/**
 * Backfill: the events Seam sent while nobody received them (an outage longer than Svix's
 * retries, a service started late), read from `/events/list` and enqueued exactly as webhooks
 * are (same job id, same worker), marked `source = backfill`. Replaying an event already
 * projected changes nothing, so overlapping a backfill with what did arrive is safe.
 */

export type BackfillProgress = {
  /** Distinct events Seam listed in the interval so far. */
  seen: number;
  /** Of those, events not yet recorded in Postgres: enqueued. */
  new: number;
  /** Of those, events already recorded in Postgres: not enqueued again. */
  duplicates: number;
  /** Requests to `/events/list`. */
  pages: number;
  /** Share of the interval read so far, 0 to 1 (1 at the end). */
  covered: number;
};

export type BackfillOptions = {
  api: SeamApi;
  db: Db;
  queue: EventsQueue;
  since: Date;
  until: Date;
  /** Events asked for per request (Seam's default and our default: 500). */
  limit?: number;
  /** Only the events of one identity, ACS user or credential; every event when absent. */
  filter?: EventsFilter;
  now?: () => Date;
  signal?: AbortSignal;
  onProgress?: (progress: BackfillProgress) => void;
};

export class BackfillError extends Error {
  override name = "BackfillError";
}

/** The CLI's resource flags (`--acs-user <id>` …) and the `/events/list` filter each sets. */
const FILTER_FLAGS = {
  "user-identity": "user_identity_id",
  "acs-user": "acs_user_id",
  "acs-credential": "acs_credential_id",
} as const satisfies Record<string, keyof EventsFilter>;

type FilterFlag = keyof typeof FILTER_FLAGS;

/** `npm run cli -- backfill`'s options, for `node:util` parseArgs: each takes a value. */
export const BACKFILL_OPTIONS = Object.fromEntries(
  ["since", "until", "limit", ...Object.keys(FILTER_FLAGS)].map((flag) => [
    flag,
    { type: "string" as const },
  ]),
) as Record<"since" | "until" | "limit" | FilterFlag, { type: "string" }>;

export type BackfillFlags = Partial<Record<keyof typeof BACKFILL_OPTIONS, string>>;

/** The filter the flags ask for; undefined when none is given (every event). */
export const filterOfFlags = (flags: BackfillFlags): EventsFilter | undefined => {
  const entries = Object.entries(FILTER_FLAGS).flatMap(([flag, field]) => {
    const id = flags[flag as FilterFlag];
    return id === undefined ? [] : [[field, id] as const];
  });
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
};

const at = (event: SeamEventJson) => Date.parse(event.created_at);
const iso = (ms: number) => new Date(ms).toISOString();

/** The event ids of `ids` that the events table holds already. */
const recordedIds = async (db: Db, ids: string[]): Promise<Set<string>> => {
  const rows = await selectRecordedEventIds(db, ids);
  return new Set(rows.map((row) => row.event_id));
};

/**
 * How the interval is paged. The pinned API version (@seamapi/types 1.721.0, as 1.622.0) gives
 * `/events/list` no cursor: it takes `between` (exclusive at both ends) and `limit` (default
 * 500) and answers at most `limit` events of the interval. So: while Seam gives a
 * `next_page_cursor`, follow it (a later API version may); otherwise a page shorter than
 * `limit` ends the interval, and a full page narrows it past what it held. Seam lists newest
 * first, so the next request ends just after the page's oldest event; if a page comes oldest
 * first, the next one starts just before its newest. The one millisecond of overlap returns
 * events at the edge again, so an event at the same instant as the edge is never skipped; the
 * copies are known from the page before and not counted twice.
 */
export const backfill = async (options: BackfillOptions): Promise<BackfillProgress> => {
  const limit = options.limit ?? 500;
  const now = options.now ?? (() => new Date());
  const sinceMs = options.since.getTime();
  const untilMs = options.until.getTime();
  const span = Math.max(1, untilMs - sinceMs);
  // `between` excludes its ends: start one millisecond early so `since` itself is included.
  let after = sinceMs - 1;
  let before = untilMs;
  let cursor: string | undefined;
  let previousPage = new Set<string>();
  /** For progress while following a cursor: the oldest event read (Seam lists newest first). */
  let readDownTo = untilMs;
  const progress: BackfillProgress = { seen: 0, new: 0, duplicates: 0, pages: 0, covered: 0 };

  for (;;) {
    if (options.signal?.aborted) throw new BackfillError("backfill interrupted");
    const page = await options.api.listEventsPage({
      after: iso(after),
      before: iso(before),
      limit,
      ...(options.filter === undefined ? {} : { filter: options.filter }),
      ...(cursor === undefined ? {} : { pageCursor: cursor }),
    });
    progress.pages += 1;
    const events = page.events.filter((event) => typeof event.event_id === "string");
    const fresh = events.filter((event) => !previousPage.has(event.event_id));
    previousPage = new Set(events.map((event) => event.event_id));
    if (fresh.length > 0) {
      const recorded = await recordedIds(
        options.db,
        fresh.map((event) => event.event_id),
      );
      const missing = fresh.filter((event) => !recorded.has(event.event_id));
      const receivedAt = now().toISOString();
      if (missing.length > 0) {
        await addEvents(
          options.queue,
          missing.map((event) => ({
            body: JSON.stringify(event),
            eventId: event.event_id,
            receivedAt,
            source: "backfill" as const,
          })),
        );
      }
      progress.seen += fresh.length;
      progress.new += missing.length;
      progress.duplicates += fresh.length - missing.length;
    }

    const times = events.map(at).filter((ms) => !Number.isNaN(ms));
    if (page.nextPageCursor !== undefined) {
      // The same query again with the cursor: the interval must not change under it.
      if (page.nextPageCursor === cursor) {
        throw new BackfillError("/events/list gave the same page cursor twice; stopped");
      }
      cursor = page.nextPageCursor;
      if (times.length > 0) readDownTo = Math.min(readDownTo, ...times);
    } else {
      if (cursor !== undefined || events.length < limit) break;
      const newestFirst = (times[0] ?? 0) >= (times.at(-1) ?? 0);
      if (newestFirst) {
        const next = Math.min(...times) + 1;
        if (next >= before) throw stuck(limit, next - 1);
        before = next;
      } else {
        const next = Math.max(...times) - 1;
        if (next <= after) throw stuck(limit, next + 1);
        after = next;
      }
    }
    const read = Math.max(untilMs - Math.min(before, readDownTo), after + 1 - sinceMs, 0);
    progress.covered = Math.min(1, read / span);
    options.onProgress?.({ ...progress });
  }
  progress.covered = 1;
  options.onProgress?.({ ...progress });
  return progress;
};

const stuck = (limit: number, ms: number) =>
  new BackfillError(
    `more than ${limit} events at ${iso(ms)}: /events/list cannot page past one instant; run again with a larger --limit`,
  );
