import { Hono } from "hono";
import type { StatusCode } from "hono/utils/http-status";
import { AppError } from "../errors.js";
import type { EventsQueue } from "../ingest/queue.js";
import { fromQueue } from "./queue-deadline.js";

export const BOARD_PATH = "/admin/queues";

/**
 * Only the signed webhook route puts events into the queue. The board's "add job" would add one
 * that nobody signed (and that the projector would trust as `source=webhook`), and editing a
 * job's data or a job scheduler would do the same by another door: refused for every token.
 */
const WRITES_JOB_DATA = /\/(add|update-data)\/?$|\/job-schedulers(\/|$)/i;

/**
 * The Bull Board dashboard for the events queue: counts per state, jobs, their data and
 * failure reasons. Mounted at BOARD_PATH behind the admin auth, which marks each request
 * `read` or `admin`. Two boards serve it: a read-only one (Bull Board's `readOnlyMode`, so the
 * pages show no buttons and its API refuses every change) for API tokens, and a full one (retry,
 * clean, pause, promote…) for admin tokens. adminWritesOnly has already refused a write
 * without an admin token; whichever board answers, it answers within the admin deadline.
 */
export const boardRoutes = (queue: EventsQueue) => {
  // Loaded at the first request: loaded at start-up, Bull Board took an idle API process from
  // 98-99 to 107-111 MB resident, and most processes never serve it.
  let boards: Promise<{ full: Hono; readOnly: Hono }> | undefined;
  const loadBoards = () => {
    boards ??= import("./board-app.js").then(({ boardApp }) => ({
      full: boardApp(queue, false),
      readOnly: boardApp(queue, true),
    }));
    return boards;
  };
  return new Hono().all("*", async (c) => {
    if (c.req.method !== "GET" && WRITES_JOB_DATA.test(c.req.path)) {
      throw new AppError("forbidden", "jobs enter the events queue as signed webhooks only");
    }
    const { full, readOnly } = await loadBoards();
    const board = c.get("access") === "admin" ? full : readOnly;
    const answer = await fromQueue(async () => {
      const response = await board.fetch(c.req.raw, c.env);
      // Bull Board answers a failed Redis call with a 500 of its own.
      if (response.status >= 500) throw new Error(`the board answered ${response.status}`);
      return response;
    });
    // Its own 404 is plain text; every error here has the one envelope (docs/api.md).
    if (answer.status === 404) throw new AppError("not_found", "no such page of the board");
    // Through this request's context, so the headers set on it (X-Request-Id) are kept.
    return c.newResponse(answer.body, {
      status: answer.status as StatusCode,
      headers: answer.headers,
    });
  });
};
