import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { signBody } from "../../src/replay/sign.js";
import type { Readiness } from "../../src/shared/readiness.js";

/** A bearer token of the tests' own (the local default must not be what makes them pass). */
export const TEST_TOKEN = `test-token-${randomUUID()}`;

/** Asserts an error answer: its status, and the envelope's code, message and field (CONTRACT §5). */
export const expectError = async (
  response: Response,
  status: number,
  code: string,
  field?: string,
) => {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: Record<string, unknown> };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.field).toBe(field);
};

/** The `readiness` events of an SSE response, one at a time; undefined once the stream ends. */
export const followEvents = (response: Response) => {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    next: async (): Promise<Readiness | undefined> => {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((line) => line.startsWith("data: "));
          if (block.includes("event: readiness") && data) return JSON.parse(data.slice(6));
          continue;
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
  };
};

/** Every `readiness` event of an SSE response, once the server has ended the stream. */
export const readEvents = async (response: Response, onEvent?: (readiness: Readiness) => void) => {
  const events = followEvents(response);
  const all: Readiness[] = [];
  for (let next = await events.next(); next !== undefined; next = await events.next()) {
    all.push(next);
    onEvent?.(next);
  }
  return all;
};

/** HTTP helpers against one running seam-projector. */
export const apiClient = (url: string, options: { token?: string; secret: string }) => {
  const token = options.token ?? TEST_TOKEN;
  const call = (
    method: string,
    path: string,
    body?: unknown,
    init: { signal?: AbortSignal; headers?: Record<string, string> } = {},
  ) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  const identity = (id: string) => `/v1/user_identities/${id}`;
  return {
    call,
    readiness: async (id: string) =>
      (await call("GET", `${identity(id)}/readiness`)).json() as Promise<Readiness>,
    link: (id: string, links: Record<string, string[]>) =>
      call("PUT", `${identity(id)}/resources`, links),
    requestDeletion: (id: string, links?: Record<string, string[]>) =>
      call("POST", `${identity(id)}/deletion`, links),
    waitDeletion: (id: string, wait?: number, signal?: AbortSignal) =>
      call(
        "GET",
        `${identity(id)}/deletion${wait === undefined ? "" : `?wait=${wait}`}`,
        undefined,
        signal ? { signal } : {},
      ),
    cancelDeletion: (id: string) => call("DELETE", `${identity(id)}/deletion`),
    /** Signs an event with svix and posts it to the webhook route, as Seam would. */
    sendEvent: (event: Record<string, unknown>) => {
      const body = JSON.stringify(event);
      return fetch(`${url}/webhooks/seam`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...signBody(options.secret, body) },
      });
    },
  };
};
