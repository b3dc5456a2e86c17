import { randomUUID } from "node:crypto";
import type { Role } from "../../src/config.js";
import { loadConfig } from "../../src/config.js";
import { createLogger, type Logger } from "../../src/log.js";
import { startService } from "../../src/main.js";
import { signBody } from "../../src/replay/sign.js";
import type { SeamApi } from "../../src/seam/api.js";
import type { Readiness } from "../../src/shared/readiness.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { createTestSecret, serviceEnv } from "./projector-service.js";
import { dropPrefix, testPrefix } from "./redis.js";
import { waitFor } from "./wait-for.js";

export type { Readiness };

/** A bearer token of the tests' own (the local default must not be what makes them pass). */
export const TEST_TOKEN = `test-token-${randomUUID()}`;

export type LinkableType = Readiness["blockers"][number]["type"];

/** The Seam event that deletes one resource, with the fields @seamapi/types requires. */
export const deletionEvent = (
  type: LinkableType,
  id: string,
  at: Date = new Date(),
): Record<string, unknown> => {
  const base = {
    event_id: randomUUID(),
    workspace_id: randomUUID(),
    created_at: at.toISOString(),
    occurred_at: at.toISOString(),
  };
  const acs = { acs_system_id: randomUUID(), connected_account_id: randomUUID() };
  switch (type) {
    case "acs_user":
      return { ...base, ...acs, event_type: "acs_user.deleted", acs_user_id: id };
    case "acs_credential":
      return { ...base, ...acs, event_type: "acs_credential.deleted", acs_credential_id: id };
    case "enrollment_automation":
      return {
        ...base,
        event_type: "enrollment_automation.deleted",
        enrollment_automation_id: id,
      };
    case "phone":
      return { ...base, event_type: "phone.deactivated", device_id: id };
    case "client_session":
      return { ...base, event_type: "client_session.deleted", client_session_id: id };
  }
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

export type ApiClient = ReturnType<typeof apiClient>;

/**
 * seam-projector as main.ts builds it, in this process, with a database, queue prefix, secret
 * and token of its own; `waiters` is the process's registry.
 */
export const startReadinessService = async (
  options: {
    role?: Role;
    database?: TestDatabase;
    /** Where the service connects, when not straight to `database` (through a proxy). */
    databaseUrl?: string;
    /** A queue prefix and secret shared with another service of the same test. */
    prefix?: string;
    secret?: string;
    /** More environment, e.g. a backpressure limit. */
    env?: Record<string, string>;
    /** Where the service logs; silent unless given. */
    log?: Logger;
    /** A Seam API client (against a fake Seam) for discovery and enrichment. */
    seamApi?: SeamApi;
  } = {},
) => {
  const database = options.database ?? (await createTestDatabase({ max: 2 }));
  const prefix = options.prefix ?? testPrefix();
  const secret = options.secret ?? createTestSecret();
  const config = loadConfig({
    ...serviceEnv({
      databaseUrl: options.databaseUrl ?? database.url,
      prefix,
      secret,
      role: options.role ?? "all",
    }),
    API_TOKENS: TEST_TOKEN,
    ...options.env,
  });
  const service = await startService(
    config,
    options.log ?? createLogger("silent"),
    options.seamApi ? { seamApi: options.seamApi } : {},
  );
  await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, {
    timeoutMs: 20_000,
    message: "readyz",
  });
  let closed = false;
  return {
    ...apiClient(service.url, { secret }),
    url: service.url,
    /** The process's waiter registry (API roles only). */
    get waiters() {
      if (service.waiters === undefined) throw new Error("a worker process has no waiters");
      return service.waiters;
    },
    database,
    prefix,
    secret,
    /** Stops the service only (the database and queue stay, for a test of shutdown). */
    stop: async () => {
      if (closed) return;
      closed = true;
      await service.close();
    },
    close: async () => {
      if (!closed) await service.close();
      closed = true;
      if (options.database === undefined) await database.drop();
      if (options.prefix === undefined) await dropPrefix(prefix);
    },
  };
};

export type ReadinessService = Awaited<ReturnType<typeof startReadinessService>>;
