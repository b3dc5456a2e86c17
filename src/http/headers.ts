import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";

/** The Node request under @hono/node-server; undefined elsewhere (app.request in a test). */
export const nodeRequest = (c: Context) => (c.env as Partial<HttpBindings> | undefined)?.incoming;

/**
 * A request header by lower-case name, from the Node request where there is one, which Node
 * has parsed already (duplicates joined with ", ", as fetch's Headers.get joins them).
 * `c.req.header` would first copy every header into a fetch Headers, which the request then
 * keeps: about 1.5 KB for each long-poll or stream for as long as it waits.
 */
export const requestHeader = (c: Context, name: string): string | undefined => {
  const incoming = nodeRequest(c);
  if (incoming === undefined) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
};
