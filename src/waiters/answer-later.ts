import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import { errorBody } from "../errors.js";

/** What a deferred answer becomes: a JSON body, its status, and headers beyond the usual. */
export type LaterAnswer = { status: number; json: unknown; headers?: Record<string, string> };

/**
 * Lets the middleware chain finish now and writes the JSON answer to the Node response once
 * `answer` settles; undefined outside @hono/node-server (`app.request` in tests), where the
 * caller awaits as usual.
 *
 * Why: a request awaited inside Hono keeps every middleware's frame suspended with it (seventeen
 * async frames for a long-poll: compose, request id, request log, auth, validators), about 12 KB
 * a waiter, which made 10,000 long-polls cost 400 MB; detached, a waiter is its socket, its
 * Waiter and one promise. The headers middlewares prepared (the request id) are taken now, from
 * a JSON response built the usual way. The request log's line is written as the chain ends,
 * so for a long-poll it times the registration, not the wait.
 */
export const answerLater = (c: Context, answer: Promise<LaterAnswer>): Response | undefined => {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  // HEAD: Hono answers it with this handler's response, body dropped; written here behind its
  // back, it would be answered twice.
  if (outgoing === undefined || c.req.method === "HEAD") return undefined;
  const prepared = Object.fromEntries(c.json(null, 200).headers);
  const write = ({ status, json, headers }: LaterAnswer) => {
    // The client may have gone (its wait ended because of that); nobody is left to answer.
    if (outgoing.destroyed || outgoing.headersSent) return;
    const body = JSON.stringify(json);
    outgoing.writeHead(status, {
      ...prepared,
      ...headers,
      "content-length": Buffer.byteLength(body),
    });
    outgoing.end(body);
  };
  answer.then(write, () =>
    write({ status: 500, json: errorBody("internal_error", "internal error") }),
  );
  return RESPONSE_ALREADY_SENT;
};
