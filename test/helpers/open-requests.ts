import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { IncomingMessage, ServerResponse } from "node:http";

type Started = { request: IncomingMessage; response: ServerResponse };

/**
 * Follows every request that a Node HTTP server of this process starts (node:diagnostics_channel,
 * so no server needs a hook of its own) until its response closes, for a test whose server will
 * not finish closing: `open()` names the requests still in hand and how long they have been.
 */
export const watchOpenRequests = () => {
  const open = new Map<ServerResponse, { what: string; since: number }>();
  const onStart = (message: unknown) => {
    const { request, response } = message as Started;
    open.set(response, {
      what: `${request.method} ${request.headers.host ?? ""}${request.url}`,
      since: performance.now(),
    });
    response.once("close", () => open.delete(response));
  };
  subscribe("http.server.request.start", onStart);
  return {
    /** The requests whose responses have not closed, oldest first, with their age. */
    open: () =>
      [...open.values()].map(
        ({ what, since }) => `${what} (${Math.round(performance.now() - since)} ms)`,
      ),
    stop: (): void => {
      unsubscribe("http.server.request.start", onStart);
    },
  };
};
