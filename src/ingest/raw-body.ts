import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";

/** The body as text, or `too_large` once it is known to pass the limit (nothing more is read). */
export type RawBody = { ok: true; text: string } | { ok: false };

const TOO_LARGE: RawBody = { ok: false };

/** UTF-8 as fetch's `text()` decodes it: invalid bytes replaced, a leading BOM dropped. */
const decode = (bytes: Buffer): string => {
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
};

/**
 * Reads the Node request stream itself. `c.req.text()` would first make @hono/node-server
 * build a fetch Request over it, a web ReadableStream and its reader: measured under load,
 * a fifth of the webhook route's CPU went there.
 */
const readNodeBody = (incoming: HttpBindings["incoming"], limit: number) =>
  new Promise<RawBody>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Nothing more is kept: the rest flows to no listener, so the connection can carry the
        // 413 and the next request, and a sender that never stops meets the request timeout.
        incoming.resume();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ ok: true, text: decode(Buffer.concat(chunks, size)) });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("the client closed the connection before sending the whole body"));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onClose);
  });

/** The same with the fetch Request's stream, where there is no Node request (app.request). */
const readFetchBody = async (request: Request, limit: number): Promise<RawBody> => {
  if (request.body === null) return { ok: true, text: "" };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    size += next.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return TOO_LARGE;
    }
    chunks.push(next.value);
  }
  return { ok: true, text: decode(Buffer.concat(chunks, size)) };
};

const nodeRequest = (c: Context) => (c.env as Partial<HttpBindings> | undefined)?.incoming;

/**
 * Reads request headers by lower-case name. From the Node request where there is one, which
 * Node has parsed already (duplicates joined with ", ", as fetch's Headers.get joins them):
 * `c.req.header` would first copy them all into a fetch Headers.
 */
export const headerReader = (c: Context): ((name: string) => string | undefined) => {
  const incoming = nodeRequest(c);
  if (incoming === undefined) return (name) => c.req.header(name);
  return (name) => {
    const value = incoming.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
};

/**
 * The request body as text, refused past `limit` bytes: by its Content-Length before anything
 * is read, else by counting the bytes as they come, without reading past the limit.
 */
export const readRawBody = (
  c: Context,
  header: (name: string) => string | undefined,
  limit: number,
): Promise<RawBody> => {
  const declared = header("content-length");
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve(TOO_LARGE);
  const incoming = nodeRequest(c);
  return incoming === undefined ? readFetchBody(c.req.raw, limit) : readNodeBody(incoming, limit);
};
