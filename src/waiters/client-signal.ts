import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";

/**
 * A signal that aborts when the client goes away, for waits that must end then.
 *
 * Under @hono/node-server it follows the Node response's `close` itself. `c.req.raw.signal`
 * would do too, but the adapter creates it lazily with a whole fetch `Request` (its URL, its
 * headers copied twice, two signals): about 5 KB a waiter, kept as long as the wait, which is
 * a sixth of what 10,000 waiters cost. A client that left before this runs gets an aborted
 * signal at once (its `close` has already fired). Elsewhere (`app.request` in tests) the
 * request's own signal serves.
 */
export const clientSignal = (c: Context): AbortSignal => {
  const bindings = c.env as Partial<HttpBindings> | undefined;
  const outgoing = bindings?.outgoing;
  if (outgoing === undefined) return c.req.raw.signal;
  const socket = outgoing.socket ?? bindings?.incoming?.socket;
  if (socket == null || socket.destroyed || outgoing.closed) {
    return AbortSignal.abort("client went away");
  }
  const controller = new AbortController();
  outgoing.once("close", () => controller.abort("client went away"));
  return controller.signal;
};
