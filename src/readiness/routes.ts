import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { AppError } from "../errors.js";
import { answerLater } from "../http/answer-later.js";
import { clientSignal } from "../http/client-signal.js";
import { requireJsonBody } from "../http/json-body.js";
import { bearerSecurity, jsonContent } from "../http/openapi.js";
import type { WaiterRegistry } from "../waiters/registry.js";
import { followWait, openWait } from "../waiters/wait.js";
import { errorSchema, identityParams, linksBody, readinessSchema, waitQuery } from "./schemas.js";
import type { ReadinessService } from "./service.js";

export type ReadinessRouteDeps = { readiness: ReadinessService; waiters: WaiterRegistry };

/** Seconds between SSE keep-alive comments, below the idle timeouts of common proxies. */
const SSE_KEEPALIVE_MS = 15_000;

const BASE = "/v1/user_identities/{user_identity_id}";
const security = bearerSecurity;
const json = jsonContent;
const errors = {
  400: json(errorSchema, "A malformed id, query or body; `field` names the input at fault."),
  401: json(errorSchema, "Missing or unknown bearer token."),
};
/** The request of a route that takes the resource lists: JSON only, zod-validated. */
const withLinks = (required: boolean) => ({
  middleware: [requireJsonBody],
  request: {
    params: identityParams,
    body: { content: { "application/json": { schema: linksBody } }, required },
  },
});
const conflict = {
  409: json(errorSchema, "A resource is already linked to another identity; nothing was linked."),
};
/** Only with `"discover": true`: the Seam API call failed (see the README). */
const seamFaults = {
  502: json(errorSchema, "`seam_api_unauthorized` or `seam_api_rejected`: Seam refused the call."),
  503: json(errorSchema, "`seam_api_unavailable`: Seam failed or timed out after retries."),
};
const deletionNotFound = { 404: json(errorSchema, "No deletion was requested.") };
const noDeletion = () =>
  new AppError("not_found", "no deletion was requested for this user identity");

const getReadiness = createRoute({
  method: "get",
  path: `${BASE}/readiness`,
  summary: "Is the identity ready to delete?",
  security,
  request: { params: identityParams },
  responses: { 200: json(readinessSchema, "The readiness object."), ...errors },
});

const putResources = createRoute({
  method: "put",
  path: `${BASE}/resources`,
  summary: "Link Seam resources to the identity (idempotent)",
  security,
  ...withLinks(true),
  responses: {
    200: json(readinessSchema, "Linked; the readiness object."),
    ...errors,
    ...conflict,
    ...seamFaults,
  },
});

const postDeletion = createRoute({
  method: "post",
  path: `${BASE}/deletion`,
  summary: "Request the deletion of the identity, optionally linking resources",
  security,
  ...withLinks(false),
  responses: {
    201: json(readinessSchema, "Deletion recorded; `status` is `ready` at once if nothing blocks."),
    200: json(readinessSchema, "A deletion was already requested."),
    ...errors,
    ...conflict,
    ...seamFaults,
  },
});

const getDeletion = createRoute({
  method: "get",
  path: `${BASE}/deletion`,
  summary: "Wait until the deletion is ready (long-poll)",
  description:
    "Answers at once when the deletion is ready, otherwise as soon as it becomes ready (or is cancelled: `deletion` is then null), otherwise after `wait` seconds with the current readiness. Woken by Postgres notifications; no query runs while it waits.",
  security,
  request: { params: identityParams, query: waitQuery },
  responses: {
    200: json(readinessSchema, "The readiness object when ready, cancelled or timed out."),
    ...errors,
    ...deletionNotFound,
  },
});

const getDeletionEvents = createRoute({
  method: "get",
  path: `${BASE}/deletion/events`,
  summary: "Follow the deletion as Server-Sent Events",
  description:
    "One `readiness` event at once and one whenever the readiness object changes; the stream ends after the event that says `ready`, or after a cancel (`deletion` null).",
  security,
  request: { params: identityParams },
  responses: {
    200: {
      content: { "text/event-stream": { schema: { type: "string" } } },
      description: "`event: readiness` with the readiness object as `data`.",
    },
    ...errors,
    ...deletionNotFound,
  },
});

const deleteDeletion = createRoute({
  method: "delete",
  path: `${BASE}/deletion`,
  summary: "Cancel the deletion; its waiters answer at once with `deletion` null",
  security,
  request: { params: identityParams },
  responses: {
    204: { description: "Cancelled." },
    ...errors,
    ...deletionNotFound,
  },
});

/** While the process drains, answered waiters should not keep their connection open. */
const closeIfDraining = (c: Context, waiters: WaiterRegistry) => {
  if (waiters.closed) c.header("Connection", "close");
};

/** The `/v1` routes of CONTRACT §5, declared on an OpenAPI router so the document follows. */
export const readinessRoutes = (router: OpenAPIHono, deps: ReadinessRouteDeps) => {
  const waitDeps = { registry: deps.waiters, readOne: deps.readiness.readOne };
  return router
    .openapi(getReadiness, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      return c.json(await deps.readiness.readOne(id), 200);
    })
    .openapi(putResources, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      return c.json(await deps.readiness.link(id, c.req.valid("json")), 200);
    })
    .openapi(postDeletion, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      const { created, readiness } = await deps.readiness.requestDeletion(id, c.req.valid("json"));
      return created ? c.json(readiness, 201) : c.json(readiness, 200);
    })
    .openapi(getDeletion, async (c) => {
      const signal = clientSignal(c);
      const { user_identity_id: id } = c.req.valid("param");
      const { wait = 0 } = c.req.valid("query");
      const opened = await openWait(waitDeps, id);
      if (opened === undefined) throw noDeletion();
      const waiting = followWait(opened, { signal, timeoutMs: wait * 1000 }).finally(() =>
        opened.waiter.release(),
      );
      // Answered outside the middleware chain, so a waiter holds no middleware frames.
      const later = answerLater(
        c,
        waiting.then((readiness) => ({
          status: 200,
          json: readiness,
          ...(deps.waiters.closed ? { headers: { Connection: "close" } } : {}),
        })),
      );
      // The sentinel has no typed body: the answer written later is the 200 declared above.
      if (later !== undefined) return later as never;
      const readiness = await waiting;
      closeIfDraining(c, deps.waiters);
      return c.json(readiness, 200);
    })
    .openapi(getDeletionEvents, async (c) => {
      const signal = clientSignal(c);
      const { user_identity_id: id } = c.req.valid("param");
      const opened = await openWait(waitDeps, id);
      if (opened === undefined) throw noDeletion();
      c.header("X-Accel-Buffering", "no"); // nginx would otherwise hold events back
      return streamSSE(c, async (stream) => {
        const gone = new AbortController();
        stream.onAbort(() => gone.abort());
        signal.addEventListener("abort", () => gone.abort(), { once: true });
        if (signal.aborted) gone.abort();
        let sequence = 0;
        const send = (readiness: unknown) =>
          stream.writeSSE({
            event: "readiness",
            data: JSON.stringify(readiness),
            id: String(++sequence),
          });
        try {
          await send(opened.current);
          await followWait(opened, {
            signal: gone.signal,
            timeoutMs: Number.POSITIVE_INFINITY,
            onChange: send,
            onIdle: () => stream.write(": keep-alive\n\n").then(() => {}),
            idleMs: SSE_KEEPALIVE_MS,
          });
        } finally {
          opened.waiter.release();
        }
      });
    })
    .openapi(deleteDeletion, async (c) => {
      const { user_identity_id: id } = c.req.valid("param");
      if (!(await deps.readiness.cancelDeletion(id))) throw noDeletion();
      return c.body(null, 204);
    });
};
