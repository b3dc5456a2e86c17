import {
  acsCredentialJson,
  acsUserJson,
  clientSessionJson,
  enrollmentAutomationJson,
  phoneJson,
  type SimResource,
  type SimResourceType,
  userIdentityJson,
} from "./resources.js";
import { notFound, type SeamFailure, type Workspace } from "./workspace.js";

/**
 * The Seam API routes the simulator answers, each a function of the request's parameters (JSON
 * body, or query for a GET) to a status and a body shaped as @seamapi/types 1.721.0 says.
 */

export type Params = Record<string, unknown>;
type RouteAnswer = [status: number, body: unknown];
export type Route = (params: Params) => RouteAnswer;

export type RouteOptions = {
  /** Items per page of the paged lists (`/acs/credentials/list`, and events in cursor mode). */
  pageSize: number;
  /**
   * `window` (Seam 1.622.0 to 1.721.0): `/events/list` answers the newest `limit` events of the interval
   * and no pagination. `cursor`: it pages with `page_cursor` like the paged lists.
   */
  eventsPaging: "window" | "cursor";
};

const EVENT_FILTERS = ["user_identity_id", "acs_user_id", "acs_credential_id"] as const;

/** Seam's error answer: `{ error: { type, message, request_id } }`. */
const failure = (fault: SeamFailure, requestId: string): RouteAnswer => [
  fault.status,
  { error: { type: fault.type, message: fault.message, request_id: requestId } },
];

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

export const createRoutes = (
  workspace: Workspace,
  options: RouteOptions,
  requestId: () => string,
): Record<string, Route> => {
  const context = { workspaceId: workspace.workspaceId, acs: workspace.acs };
  const owned = (type: SimResourceType, identityId: unknown) =>
    typeof identityId === "string" ? workspace.ownedBy(type, identityId) : [];
  const shapes: Record<SimResourceType, (resource: SimResource) => unknown> = {
    user_identity: (identity) =>
      userIdentityJson(
        identity,
        context,
        workspace.ownedBy("acs_user", identity.id).map((user) => user.id),
      ),
    acs_user: (user) => acsUserJson(user, context),
    acs_credential: (credential) => acsCredentialJson(credential, context),
    phone: (phone) => phoneJson(phone, context),
    client_session: (session) => clientSessionJson(session, context),
    enrollment_automation: (automation) => enrollmentAutomationJson(automation, context),
  };

  /** `/<type>/get`: the resource under `responseKey`, or Seam's 404 once deleted or unknown. */
  const get =
    (type: SimResourceType, idParam: string, responseKey: string): Route =>
    (params) => {
      const resource = workspace.find(type, params[idParam]);
      return resource === undefined
        ? failure(notFound(type), requestId())
        : [200, { [responseKey]: shapes[type](resource) }];
    };

  /** A delete route: `{}` at once when accepted (completed later), else Seam's refusal. */
  const remove =
    (type: SimResourceType, idParam: string): Route =>
    (params) => {
      const refused = workspace.requestDelete(type, params[idParam]);
      return refused === undefined ? [200, {}] : failure(refused, requestId());
    };

  const listOf = (type: SimResourceType, resources: SimResource[]) => resources.map(shapes[type]);

  return {
    "/user_identities/list_acs_users": (p) => [
      200,
      { acs_users: listOf("acs_user", owned("acs_user", p.user_identity_id)) },
    ],
    "/acs/credentials/list": (p) => {
      const credentials =
        p.acs_user_id !== undefined
          ? workspace.list("acs_credential", (credential) => credential.acsUserId === p.acs_user_id)
          : owned("acs_credential", p.user_identity_id);
      const { slice, pagination } = page(
        credentials,
        p.page_cursor,
        Math.min(options.pageSize, Number(p.limit ?? options.pageSize)),
      );
      return [200, { acs_credentials: listOf("acs_credential", slice), pagination }];
    },
    "/phones/list": (p) => [
      200,
      { phones: listOf("phone", owned("phone", p.owner_user_identity_id)) },
    ],
    "/client_sessions/list": (p) => [
      200,
      { client_sessions: listOf("client_session", owned("client_session", p.user_identity_id)) },
    ],
    "/user_identities/enrollment_automations/list": (p) => [
      200,
      {
        enrollment_automations: listOf(
          "enrollment_automation",
          owned("enrollment_automation", p.user_identity_id),
        ),
      },
    ],
    "/user_identities/get": get("user_identity", "user_identity_id", "user_identity"),
    "/acs/users/get": get("acs_user", "acs_user_id", "acs_user"),
    "/acs/credentials/get": get("acs_credential", "acs_credential_id", "acs_credential"),
    "/phones/get": get("phone", "device_id", "phone"),
    "/client_sessions/get": get("client_session", "client_session_id", "client_session"),
    "/user_identities/enrollment_automations/get": get(
      "enrollment_automation",
      "enrollment_automation_id",
      "enrollment_automation",
    ),
    "/client_sessions/delete": remove("client_session", "client_session_id"),
    "/acs/credentials/delete": remove("acs_credential", "acs_credential_id"),
    "/acs/users/delete": remove("acs_user", "acs_user_id"),
    "/user_identities/enrollment_automations/delete": remove(
      "enrollment_automation",
      "enrollment_automation_id",
    ),
    "/phones/deactivate": remove("phone", "device_id"),
    "/user_identities/delete": remove("user_identity", "user_identity_id"),
    "/events/list": (p) => {
      // Seam's `between` and `since` are exclusive; newest first.
      const [after, before] = Array.isArray(p.between)
        ? p.between.map((at) => Date.parse(String(at)))
        : [Date.parse(String(p.since)), Number.POSITIVE_INFINITY];
      if (after === undefined || Number.isNaN(after)) {
        return failure(
          { status: 400, type: "invalid_input", message: "since or between" },
          requestId(),
        );
      }
      // The resource filters (user_identity_id, acs_user_id, acs_credential_id): an event
      // matches when it carries the same id.
      const filters = EVENT_FILTERS.filter((field) => p[field] !== undefined);
      const inWindow = workspace
        .events()
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
        const { slice, pagination } = page(
          inWindow,
          p.page_cursor,
          Math.min(limit, options.pageSize),
        );
        return [200, { events: slice, pagination }];
      }
      return [200, { events: inWindow.slice(0, limit) }];
    },
  };
};
