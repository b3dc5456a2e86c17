import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";

/** The Node request under @hono/node-server; undefined elsewhere (app.request in a test). */
export const nodeRequest = (c: Context) => (c.env as Partial<HttpBindings> | undefined)?.incoming;

/**
 * A request header by name, as fetch's Headers.get would give it (every value the
 * request sent under that name, joined with ", "), read from the Node request's raw headers
 * where there is one. @hono/node-server's `c.req.header` answers the same, but for some names
 * (authorization, host, content-type) from a copy of the raw headers that the request then
 * keeps for as long as it waits (a long-poll, a stream). Not Node's parsed `headers`: it keeps
 * only the first of those duplicates, where a second Authorization must make the request fail.
 */
export const requestHeader = (c: Context, name: string): string | undefined => {
  const incoming = nodeRequest(c);
  if (incoming === undefined) return c.req.header(name);
  const wanted = name.toLowerCase();
  const raw = incoming.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as string;
    if (key.length !== wanted.length || key.toLowerCase() !== wanted) continue;
    const next = raw[i + 1] as string;
    value = value === undefined ? next : `${value}, ${next}`;
  }
  return value;
};
