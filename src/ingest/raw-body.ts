import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { nodeRequest, requestHeader } from "../http/headers.js";

/**
 * The body's bytes as received (the signature is checked over them, before any decoding), or
 * why there are none: `too_large` once it is known to pass the limit (nothing more is read),
 * `aborted` when the client went away before the end of it.
 */
export type RawBody = { ok: true; bytes: Buffer } | { ok: false; reason: "too_large" | "aborted" };

const TOO_LARGE: RawBody = { ok: false, reason: "too_large" };
const ABORTED: RawBody = { ok: false, reason: "aborted" };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Verified bytes as text: UTF-8, a leading BOM dropped (as fetch's `text()` does), undefined
 * when the bytes are not UTF-8 at all. Never with replacement characters: the text is what the
 * worker stores as the signed body.
 */
export const decodeBody = (bytes: Buffer): string | undefined => {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
};

/**
 * Reads the Node request stream itself. `c.req.text()` would first make @hono/node-server
 * build a fetch Request over it, a web ReadableStream and its reader: measured under load,
 * a fifth of the webhook route's CPU went there.
 */
const readNodeBody = (incoming: HttpBindings["incoming"], limit: number) =>
  new Promise<RawBody>((resolve) => {
    // Gone before the route ran: no `close` would come to the listeners below.
    if (incoming.readableAborted) {
      resolve(ABORTED);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onClose);
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
      resolve({ ok: true, bytes: Buffer.concat(chunks, size) });
    };
    // The client went away mid-body (Node emits `error`, ECONNRESET "aborted", then `close`):
    // an ordinary end of a delivery that Svix retries, not a fault of ours, so an outcome of
    // its own rather than an error that would log as a 500.
    const onClose = () => {
      cleanup();
      resolve(ABORTED);
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onClose);
    // After the listeners above are gone (a 413 read no further), a late reset must not be an
    // `error` event with no listener, which would throw.
    incoming.on("error", () => {});
    incoming.on("close", onClose);
  });

/** The same with the fetch Request's stream, where there is no Node request (app.request). */
const readFetchBody = async (request: Request, limit: number): Promise<RawBody> => {
  if (request.body === null) return { ok: true, bytes: Buffer.alloc(0) };
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
  return { ok: true, bytes: Buffer.concat(chunks, size) };
};

/**
 * The request body's bytes, refused past `limit` bytes: by its Content-Length before anything
 * is read, else by counting the bytes as they come, without reading past the limit.
 */
export const readRawBody = (c: Context, limit: number): Promise<RawBody> => {
  const declared = requestHeader(c, "content-length");
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve(TOO_LARGE);
  const incoming = nodeRequest(c);
  return incoming === undefined ? readFetchBody(c.req.raw, limit) : readNodeBody(incoming, limit);
};
