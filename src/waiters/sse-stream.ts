import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";

/** Writes text to the stream; resolves once it is accepted (or the client has gone). */
export type SseWrite = (text: string) => Promise<void>;

const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no", // nginx would otherwise hold events back
};

/** One Server-Sent Event: `event`, each line of `data`, `id`. */
export const sseEvent = (event: string, data: string, id: string) =>
  `event: ${event}\n${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join("\n")}\nid: ${id}\n\n`;

/**
 * A HEAD of an SSE route: the stream's headers and no body. Hono answers HEAD with the GET
 * handler's response, body dropped, so a stream written to the Node response behind its back
 * would be answered twice (node's ERR_HTTP_HEADERS_SENT) and hold its waiter to no one.
 */
export const sseHead = (c: Context): Response => c.body(null, 200, SSE_HEADERS);

/**
 * Answers with an SSE stream that `run` writes, then ends it. Under @hono/node-server it writes
 * straight to the Node response and lets the middleware chain finish at once, as answerLater
 * does for a long-poll: hono's streamSSE keeps a TransformStream, its writer and reader, a
 * Response and every middleware's frame for as long as the stream lasts, which made an SSE
 * stream cost about twice a long-poll (39 KB against 18 KB in a process of 3,000). A write
 * waits for the socket to drain, so a client that reads slowly holds its stream back rather
 * than the process's memory.
 */
export const streamLater = (c: Context, run: (write: SseWrite) => Promise<void>): Response => {
  // Headers the middlewares prepared (the request id), taken from a response built the usual way.
  const prepared = Object.fromEntries(c.body(null, 200).headers);
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing === undefined) {
    // Outside @hono/node-server (`app.request` in tests): a web stream does it.
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    void run((text) => writer.write(encoder.encode(text)).catch(() => {})).finally(() =>
      writer.close().catch(() => {}),
    );
    return new Response(readable, { status: 200, headers: { ...prepared, ...SSE_HEADERS } });
  }
  outgoing.writeHead(200, { ...prepared, ...SSE_HEADERS });
  outgoing.flushHeaders();
  const write: SseWrite = (text) =>
    new Promise((resolve) => {
      if (outgoing.destroyed || outgoing.writableEnded || outgoing.write(text)) return resolve();
      const done = () => {
        outgoing.off("drain", done);
        outgoing.off("close", done);
        resolve();
      };
      outgoing.on("drain", done);
      outgoing.on("close", done);
    });
  void run(write)
    .catch(() => {})
    .finally(() => {
      if (!outgoing.writableEnded) outgoing.end();
    });
  return RESPONSE_ALREADY_SENT;
};

/**
 * Sends values one write at a time, only the newest while a write is pending: for a value that
 * supersedes the last (the queue's counts), a client that stops reading holds back one event,
 * where one write per change kept every event, and a drain and a close listener each, in the
 * process for as long as it did not read.
 */
export const newestOnly = <T>(send: (value: T) => Promise<void>) => {
  let pending: { value: T } | undefined;
  let writing = false;
  const flush = async () => {
    writing = true;
    while (pending !== undefined) {
      const { value } = pending;
      pending = undefined;
      try {
        await send(value);
      } catch {
        // A write fails only when the client has gone; the stream's own loop ends it. Nobody
        // awaits this one, and a rejection here would be unhandled.
      }
    }
    writing = false;
  };
  return (value: T): void => {
    pending = { value };
    if (!writing) void flush();
  };
};
