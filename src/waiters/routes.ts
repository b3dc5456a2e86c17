import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requestHeader } from "../http/headers.js";
import { bearerSecurity } from "../http/openapi.js";
import {
  deletionNotFound,
  deletionNotRequested,
  IDENTITY_PATH,
  identityParams,
  jsonContent,
  openApiErrorResponses,
  readinessSchema,
} from "../shared/api.js";
import { answerLater } from "./answer-later.js";
import { clientSignal } from "./client-signal.js";
import type { QueueWatch } from "./queue-watch.js";
import type { WaiterRegistry } from "./registry.js";
import { waitQuery } from "./schemas.js";
import { newestOnly, sseEvent, sseHead, streamLater } from "./sse-stream.js";
import { followWait, openWait, type WaitDeps } from "./wait.js";

/** Seconds between SSE keep-alive comments, below the idle timeouts of common proxies. */
const SSE_KEEPALIVE_MS = 15_000;

const getDeletion = createRoute({
  method: "get",
  path: `${IDENTITY_PATH}/deletion`,
  summary: "Wait until the deletion is ready (long-poll)",
  description:
    "Answers at once when the deletion is ready (with an execution: when the execution has ended, completed or failed), otherwise as soon as it is (or is cancelled: `deletion` is then null), otherwise after `wait` seconds with the current readiness. Woken by Postgres notifications; no query runs while it waits.",
  security: bearerSecurity,
  request: { params: identityParams, query: waitQuery },
  responses: {
    200: jsonContent(readinessSchema, "The readiness object when ready, cancelled or timed out."),
    ...openApiErrorResponses,
    ...deletionNotFound,
  },
});

const getDeletionEvents = createRoute({
  method: "get",
  path: `${IDENTITY_PATH}/deletion/events`,
  summary: "Follow the deletion as Server-Sent Events",
  description:
    "One `readiness` event at once and one whenever the readiness object changes; the stream ends after the event that says `ready` (with an execution: that it ended), or after a cancel (`deletion` null).",
  security: bearerSecurity,
  request: { params: identityParams },
  responses: {
    200: {
      content: { "text/event-stream": { schema: { type: "string" } } },
      description: "`event: readiness` with the readiness object as `data`.",
    },
    ...openApiErrorResponses,
    ...deletionNotFound,
  },
});

const getDeletionsEvents = createRoute({
  method: "get",
  path: "/v1/deletions/events",
  summary: "Follow every deletion as Server-Sent Events",
  description:
    '`readiness` with the readiness object of every deletion that changes (requested, blockers changed, ready, an execution\'s step or status, cancelled: `deletion` null); `queue` with the events queue\'s `{"waiting","failed"}` at once and when they change; `resync` when changes may have been missed (the request carried `Last-Event-ID`, or the service lost its notifications): list again. Woken by the same notifications as the waiters; counts towards `MAX_WAITERS`.',
  security: bearerSecurity,
  responses: {
    200: {
      content: { "text/event-stream": { schema: { type: "string" } } },
      description: "`event: readiness`, `event: queue`, `event: resync`.",
    },
    ...openApiErrorResponses,
  },
});

/**
 * The token bearerAuth accepted (none without it, as in a test of the routes alone): the owner
 * whose share of MAX_WAITERS a wait takes.
 */
const tokenOf = (c: Context): string | undefined => c.get("token") as string | undefined;

/** While the process drains, answered waiters should not keep their connection open. */
const closeIfDraining = (c: Context, waiters: WaiterRegistry) => {
  if (waiters.closed) c.header("Connection", "close");
};

/** The waiting routes of docs/api.md (long-poll and SSE), on the `/v1` OpenAPI router. */
export const waitingRoutes = (
  router: OpenAPIHono,
  deps: WaitDeps & { queueWatch?: QueueWatch | undefined },
) =>
  router
    .openapi(getDeletionsEvents, (c) => {
      if (c.req.method === "HEAD") return sseHead(c) as never;
      const signal = clientSignal(c);
      const feed = deps.registry.watchAll(tokenOf(c));
      const resumed = requestHeader(c, "last-event-id") !== undefined;
      return streamLater(c, async (write) => {
        let sequence = 0;
        const send = (event: string, data: unknown) =>
          write(sseEvent(event, JSON.stringify(data), String(++sequence)));
        // A reconnect: what changed meanwhile is not kept, so the client lists again.
        if (resumed) await send("resync", {});
        const unsubscribe = deps.queueWatch?.subscribe(
          newestOnly((counts: unknown) => send("queue", counts)),
        );
        try {
          while (!signal.aborted && !feed.ended) {
            const batch = await feed.next(signal, SSE_KEEPALIVE_MS);
            if (batch === undefined) {
              if (!signal.aborted && !feed.ended) await write(": keep-alive\n\n");
              continue;
            }
            if (batch.resync) await send("resync", {});
            for (const readiness of batch.items) await send("readiness", readiness);
          }
        } finally {
          unsubscribe?.();
          feed.release();
        }
      }) as never;
    })
    .openapi(getDeletion, async (c) => {
      const signal = clientSignal(c);
      const { user_identity_id: id } = c.req.valid("param");
      // A HEAD answers at once: nobody reads what it would have waited for.
      const wait = c.req.method === "HEAD" ? 0 : (c.req.valid("query").wait ?? 0);
      const opened = await openWait(deps, id, tokenOf(c), wait > 0);
      if (opened === undefined) throw deletionNotRequested();
      const waiting = followWait(opened, { signal, timeoutMs: wait * 1000 }).finally(() =>
        opened.waiter?.release(),
      );
      // Answered outside the middleware chain, so a waiter holds no middleware frames.
      const later = answerLater(
        c,
        waiting.then((readiness) => ({
          status: 200,
          json: readiness,
          ...(deps.registry.closed ? { headers: { Connection: "close" } } : {}),
        })),
      );
      // The sentinel has no typed body: the answer written later is the 200 declared above.
      if (later !== undefined) return later as never;
      const readiness = await waiting;
      closeIfDraining(c, deps.registry);
      return c.json(readiness, 200);
    })
    .openapi(getDeletionEvents, async (c) => {
      const signal = clientSignal(c);
      const { user_identity_id: id } = c.req.valid("param");
      const head = c.req.method === "HEAD";
      const opened = await openWait(deps, id, tokenOf(c), !head);
      if (opened === undefined) throw deletionNotRequested();
      if (head) return sseHead(c) as never;
      // Written outside the middleware chain, so a stream holds no middleware frames.
      return streamLater(c, async (write) => {
        let sequence = 0;
        const send = (readiness: unknown) =>
          write(sseEvent("readiness", JSON.stringify(readiness), String(++sequence)));
        try {
          await send(opened.current);
          await followWait(opened, {
            signal,
            timeoutMs: Number.POSITIVE_INFINITY,
            onChange: send,
            onIdle: () => write(": keep-alive\n\n"),
            idleMs: SSE_KEEPALIVE_MS,
          });
        } finally {
          opened.waiter?.release();
        }
      }) as never;
    });
