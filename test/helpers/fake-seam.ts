import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * A small stand-in for the Seam API on 127.0.0.1: the routes seam-projector calls, with the
 * answers' shapes of @seamapi/types 1.721.0, paging, and faults a test scripts per route (an
 * error status with Retry-After, a slow answer, an answer held until the test releases it).
 * Only Seam's own HTTP API is faked; Postgres and Redis are real in every test.
 */

export type FakeIdentity = {
  acs_user_ids: string[];
  acs_credential_ids: string[];
  phone_ids: string[];
  client_session_ids: string[];
  enrollment_automation_ids: string[];
};

export type Fault =
  | { status: number; retryAfter?: string }
  | { delayMs: number }
  /** Holds the answer until the promise settles, then answers normally. */
  | { hold: Promise<void> };

type FakeRequest = { path: string; method: string; params: Record<string, unknown> };

export type FakeSeamOptions = {
  apiKey?: string;
  /** Items per page of the paged lists (`/acs/credentials/list`, and events in cursor mode). */
  pageSize?: number;
  /**
   * `window` (Seam 1.622.0 to 1.721.0): `/events/list` answers the newest `limit` events of the interval
   * and no pagination. `cursor`: it pages with `page_cursor` like the paged lists.
   */
  eventsPaging?: "window" | "cursor";
};

const EVENT_FILTERS = ["user_identity_id", "acs_user_id", "acs_credential_id"] as const;

const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  res.writeHead(status, {
    "content-type": "application/json",
    "seam-request-id": randomUUID(),
    ...headers,
  });
  res.end(JSON.stringify(body));
};

const readParams = async (req: IncomingMessage, url: URL): Promise<Record<string, unknown>> => {
  if (req.method === "GET") {
    const params: Record<string, unknown> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(key);
      params[key] = all.length > 1 ? all : all[0];
    }
    return params;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
};

/** One page of `items` from an opaque cursor (a base64 offset), as Seam's paged lists answer. */
const page = <T>(items: T[], cursor: unknown, size: number) => {
  const offset = typeof cursor === "string" ? Number(Buffer.from(cursor, "base64").toString()) : 0;
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? offset + size : undefined;
  return {
    slice,
    pagination: {
      next_page_cursor: next === undefined ? null : Buffer.from(String(next)).toString("base64"),
      has_next_page: next !== undefined,
      next_page_url: null,
    },
  };
};

export const startFakeSeam = async (options: FakeSeamOptions = {}) => {
  const apiKey = options.apiKey ?? `seam_test_${randomUUID().replaceAll("-", "")}`;
  const pageSize = options.pageSize ?? 2;
  const identities = new Map<string, FakeIdentity>();
  const acsUsers = new Map<string, { user_identity_id?: string }>();
  const credentials = new Map<string, { acs_user_id?: string; user_identity_id?: string }>();
  let events: Record<string, unknown>[] = [];
  const faults = new Map<string, Fault[]>();
  const requests: FakeRequest[] = [];
  const workspaceId = randomUUID();

  const list = (identityId: unknown, field: keyof FakeIdentity) =>
    typeof identityId === "string" ? (identities.get(identityId)?.[field] ?? []) : [];

  const routes: Record<string, (params: Record<string, unknown>) => [number, unknown]> = {
    "/user_identities/list_acs_users": (p) => [
      200,
      {
        acs_users: list(p.user_identity_id, "acs_user_ids").map((id) => ({
          acs_user_id: id,
          user_identity_id: p.user_identity_id,
          workspace_id: workspaceId,
        })),
      },
    ],
    "/acs/credentials/list": (p) => {
      const { slice, pagination } = page(
        list(p.user_identity_id, "acs_credential_ids"),
        p.page_cursor,
        Math.min(pageSize, Number(p.limit ?? pageSize)),
      );
      return [
        200,
        {
          acs_credentials: slice.map((id) => ({ acs_credential_id: id, ...credentials.get(id) })),
          pagination,
        },
      ];
    },
    "/phones/list": (p) => [
      200,
      {
        phones: list(p.owner_user_identity_id, "phone_ids").map((id) => ({
          device_id: id,
          device_type: "ios_phone",
        })),
      },
    ],
    "/client_sessions/list": (p) => [
      200,
      {
        client_sessions: list(p.user_identity_id, "client_session_ids").map((id) => ({
          client_session_id: id,
          user_identity_id: p.user_identity_id,
        })),
      },
    ],
    "/user_identities/enrollment_automations/list": (p) => [
      200,
      {
        enrollment_automations: list(p.user_identity_id, "enrollment_automation_ids").map((id) => ({
          enrollment_automation_id: id,
          user_identity_id: p.user_identity_id,
        })),
      },
    ],
    "/acs/users/get": (p) => {
      const user = acsUsers.get(String(p.acs_user_id));
      return user
        ? [200, { acs_user: { acs_user_id: p.acs_user_id, ...user } }]
        : [404, { error: { type: "acs_user_not_found", message: "ACS user not found" } }];
    },
    "/acs/credentials/get": (p) => {
      const credential = credentials.get(String(p.acs_credential_id));
      return credential
        ? [200, { acs_credential: { acs_credential_id: p.acs_credential_id, ...credential } }]
        : [404, { error: { type: "acs_credential_not_found", message: "not found" } }];
    },
    "/events/list": (p) => {
      // Seam's `between` and `since` are exclusive; newest first.
      const [after, before] = Array.isArray(p.between)
        ? p.between.map((at) => Date.parse(String(at)))
        : [Date.parse(String(p.since)), Number.POSITIVE_INFINITY];
      if (after === undefined || Number.isNaN(after)) {
        return [400, { error: { type: "invalid_input", message: "since or between" } }];
      }
      // The resource filters (user_identity_id, acs_user_id, acs_credential_id): an event
      // matches when it carries the same id.
      const filters = EVENT_FILTERS.filter((field) => p[field] !== undefined);
      const inWindow = events
        .filter((event) => {
          const at = Date.parse(String(event.created_at));
          return at > after && at < (before ?? Number.POSITIVE_INFINITY);
        })
        .filter((event) => filters.every((field) => event[field] === p[field]))
        .sort(
          (a, b) =>
            Date.parse(String(b.created_at)) - Date.parse(String(a.created_at)) ||
            String(a.event_id).localeCompare(String(b.event_id)),
        );
      const limit = Number(p.limit ?? 500);
      if (options.eventsPaging === "cursor") {
        const { slice, pagination } = page(inWindow, p.page_cursor, Math.min(limit, pageSize));
        return [200, { events: slice, pagination }];
      }
      return [200, { events: inWindow.slice(0, limit) }];
    },
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const params = await readParams(req, url);
      requests.push({ path: url.pathname, method: req.method ?? "", params });
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        return json(res, 401, { error: { type: "unauthorized", message: "Unauthorized" } });
      }
      const fault = faults.get(url.pathname)?.shift();
      if (fault && "status" in fault) {
        const headers = fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter };
        return json(
          res,
          fault.status,
          { error: { type: "fake_fault", message: `scripted ${fault.status}` } },
          headers,
        );
      }
      if (fault && "delayMs" in fault) {
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      }
      if (fault && "hold" in fault) await fault.hold.catch(() => {});
      const route = routes[url.pathname];
      if (route === undefined) {
        return json(res, 404, { error: { type: "not_found", message: "no such route" } });
      }
      const [status, body] = route(params);
      if (!res.destroyed) json(res, status, body);
    })().catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { type: "fake_bug", message: String(error) } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    workspaceId,
    requests,
    /** Requests made to one route. */
    calls: (path: string) => requests.filter((request) => request.path === path),
    /** The identity's resources as Seam lists them (and the ACS users' and credentials' owner). */
    addIdentity: (identityId: string, footprint: FakeIdentity) => {
      identities.set(identityId, footprint);
      for (const id of footprint.acs_user_ids) acsUsers.set(id, { user_identity_id: identityId });
      for (const id of footprint.acs_credential_ids)
        credentials.set(id, { user_identity_id: identityId });
    },
    addAcsUser: (acsUserId: string, userIdentityId?: string) =>
      acsUsers.set(
        acsUserId,
        userIdentityId === undefined ? {} : { user_identity_id: userIdentityId },
      ),
    addCredential: (
      credentialId: string,
      owner: { acs_user_id?: string; user_identity_id?: string },
    ) => credentials.set(credentialId, owner),
    /** The workspace's event log, as `/events/list` will answer it. */
    setEvents: (next: Record<string, unknown>[]) => {
      events = next;
    },
    /** Faults for the next requests to `path`, one per request, in order. */
    fault: (path: string, ...next: Fault[]) => {
      faults.set(path, [...(faults.get(path) ?? []), ...next]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export type FakeSeam = Awaited<ReturnType<typeof startFakeSeam>>;
