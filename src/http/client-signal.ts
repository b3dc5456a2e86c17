import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";

/**
 * A signal that aborts when the client goes away, for waits that must end then.
 *
 * @hono/node-server creates `c.req.raw.signal` lazily and aborts it on the response's `close`;
 * a client that left before the first access would never abort it, and its waiter would sit
 * out the whole wait. So: take the signal first thing, and if the socket is already gone,
 * answer with an aborted signal. Nothing can run between the two checks (one tick).
 */
export const clientSignal = (c: Context): AbortSignal => {
  const signal = c.req.raw.signal;
  const bindings = c.env as Partial<HttpBindings> | undefined;
  const socket = bindings?.outgoing?.socket ?? bindings?.incoming?.socket;
  if (bindings?.incoming !== undefined && (socket == null || socket.destroyed)) {
    return AbortSignal.abort("client went away");
  }
  return signal;
};
