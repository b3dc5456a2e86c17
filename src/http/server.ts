import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { errorBody } from "../errors.js";

/**
 * How long a client may take to send its request head, and its whole request. Node's defaults
 * (60 s and 5 min, checked every 30 s) let a slow client hold a connection for minutes; a
 * webhook sender or an API client sends a request of at most 256 KiB in milliseconds. Waiting
 * for the answer (long-polls, SSE) is not counted: these end once the request is received.
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

const envelope = (message: string) => JSON.stringify(errorBody("invalid_request", message));

/** Node's own statuses for requests its parser refuses, kept: clients and proxies know them. */
const statusOf = (code: string | undefined): [number, string, string] => {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "Request Header Fields Too Large", "request headers too large"];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "Request Timeout", "request not received in time"];
    default:
      return [400, "Bad Request", "malformed HTTP request"];
  }
};

/**
 * Node answers a request its parser refuses (oversized headers, a bad method or header, broken
 * chunking, the bytes past a lying Content-Length, a request too slow) with a bare status line
 * and no body, before Hono sees it. This gives the same status with the error envelope every
 * other error has (docs/api.md), then closes the connection as node does; only when no answer
 * has begun on the connection, since anything else would corrupt the one in flight.
 */
const answerClientError = (error: Error & { code?: string }, socket: Socket) => {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  answerOnSocket(socket, ...statusOf(error.code));
};

/** An error answer written straight to the socket, which is then closed. */
const answerOnSocket = (socket: Socket, status: number, reason: string, message: string) => {
  const body = envelope(message);
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.destroySoon();
};

/**
 * The HTTP server for a Hono app: @hono/node-server's listener, with every malformed request
 * answered with the error envelope and slow clients cut off. `serve()` cannot do either: it
 * gives no error handler to the listener, which then answers a request it cannot turn into a
 * `Request` (a Host header that is no host, a backslash in the path) with a bare 400.
 */
export const createHttpServer = (
  fetch: (request: Request) => Response | Promise<Response>,
  hostname: string,
  options: { maxConnections?: number } = {},
): Server => {
  const listener = getRequestListener(fetch, {
    hostname,
    errorHandler: () =>
      new Response(envelope("malformed request target or Host header"), {
        status: 400,
        headers: { "content-type": "application/json" },
      }),
  });
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      // HTTP/1.1 without Host would get node's bare 400; the listener falls back to `hostname`.
      requireHostHeader: false,
    },
    listener,
  );
  // Past it node closes a new connection at once: far better than running out of file
  // descriptors, where every accept fails and nothing is logged.
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  server.on("clientError", answerClientError);
  // An `Expect` other than 100-continue would get node's bare 417; RFC 9110 §10.1.1 lets a
  // server ignore it instead, so the request is answered as any other, envelope included.
  server.on("checkExpectation", listener);
  // Without a listener, node drops a CONNECT request's connection without a word.
  server.on("connect", (_request, socket: Socket) =>
    answerOnSocket(socket, 400, "Bad Request", "CONNECT is not served here"),
  );
  return server;
};
