import { connect, type Socket } from "node:net";

/** One HTTP/1.1 response as read off the wire; `status` 0 when none came before the close. */
export type RawResponse = {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The server closed the connection, or it timed out, before a whole response came. */
  incomplete: boolean;
  /** The socket error that ended an incomplete exchange (ECONNRESET, EPIPE), if one did. */
  errorCode?: string;
};

export type RawRequest = {
  /**
   * The bytes to write, in parts written in order with `gapMs` between them; a generator may
   * go on forever (a slow client), and a part waits until the socket takes more (backpressure).
   */
  parts: Iterable<string | Buffer> | AsyncIterable<string | Buffer>;
  gapMs?: number;
  /** Half-close after the last part (the client has nothing more to say). */
  endAfterWrite?: boolean;
  /** Give up waiting for the response after this long; the answer is then `incomplete`. */
  timeoutMs?: number;
  /** Gives up at once when aborted; the answer is then `incomplete`. */
  signal?: AbortSignal;
};

const HEADER_END = Buffer.from("\r\n\r\n");

/** A whole response in `data`, or undefined while more bytes are needed. */
const parseResponse = (data: Buffer): Omit<RawResponse, "incomplete" | "errorCode"> | undefined => {
  const end = data.indexOf(HEADER_END);
  if (end < 0) return undefined;
  const [statusLine = "", ...lines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(end + HEADER_END.length);
  // An interim answer (100 Continue to `Expect: 100-continue`) precedes the real one.
  if (status >= 100 && status < 200) return parseResponse(rest);
  // An SSE stream never ends by itself: its head is the answer.
  if (headers["content-type"]?.startsWith("text/event-stream")) {
    return { status, headers, body: Buffer.alloc(0) };
  }
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = rest.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(chunks) };
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = Number(headers["content-length"] ?? 0);
  if (rest.length < length) return undefined;
  return { status, headers, body: rest.subarray(0, length) };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes arbitrary bytes to an HTTP server over a plain TCP socket and reads the first
 * response: what fetch and node:http refuse to send (malformed headers, non-ASCII, lying
 * Content-Length, broken chunking) reaches the server exactly as written.
 */
export const rawExchange = (url: string, request: RawRequest): Promise<RawResponse> => {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: hostname, port: Number(port) });
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (response: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(response);
    };
    let errorCode: string | undefined;
    const incomplete = () => {
      const parsed = parseResponse(data);
      finish({
        status: 0,
        headers: {},
        body: Buffer.alloc(0),
        ...(parsed ?? {}),
        incomplete: true,
        ...(errorCode ? { errorCode } : {}),
      });
    };
    const timer = setTimeout(incomplete, request.timeoutMs ?? 5000);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const parsed = parseResponse(data);
      if (parsed) finish({ ...parsed, incomplete: false });
    });
    // The server may answer and close before every part is written (a 413): not a failure.
    socket.on("error", (error: Error & { code?: string }) => {
      errorCode = error.code;
      incomplete();
    });
    socket.on("close", incomplete);
    request.signal?.addEventListener("abort", incomplete, { once: true });
    // Resolves once the socket takes more bytes, or is gone.
    const writable = () =>
      new Promise<void>((done) => {
        const stop = () => {
          socket.off("drain", stop);
          socket.off("close", stop);
          done();
        };
        socket.once("drain", stop);
        socket.once("close", stop);
      });
    socket.on("connect", async () => {
      let first = true;
      for await (const part of request.parts) {
        if (settled || socket.destroyed) return;
        if (!first && request.gapMs) await sleep(request.gapMs);
        first = false;
        if (settled || socket.destroyed) return;
        if (!socket.write(part)) await writable();
      }
      if (request.endAfterWrite && !settled && !socket.destroyed) socket.end();
    });
  });
};
