import {
  type SeamHttp,
  type SeamHttpRequest,
  SeamHttpUserIdentitiesEnrollmentAutomations,
} from "@seamapi/http/connect";
import { UUID } from "../shared/ids.js";
import { createSeamHttp, type SeamClientOptions, toSeamError } from "./client.js";

/**
 * The Seam API calls this service makes, all reads, through `@seamapi/http` (1.102.0, the newest that
 * still declares Node 20, has every one of them). Each call follows the client's retry policy and fails with an AppError
 * (`seam_api_*`, or `not_found`).
 */

/** An event as `/events/list` returns it: the same object Seam posts as a webhook. */
export type SeamEventJson = Record<string, unknown> & {
  event_id: string;
  created_at: string;
};

/** What an identity owns in Seam, as ids. */
type IdentityFootprint = {
  acs_user_ids: string[];
  acs_credential_ids: string[];
  phone_ids: string[];
  client_session_ids: string[];
  enrollment_automation_ids: string[];
};

/**
 * Narrows `/events/list` to the events of one resource (filters added to the API after
 * @seamapi/types 1.622.0): a backfill for one identity, ACS user or credential reads only its
 * events instead of the workspace's.
 */
export type EventsFilter = {
  user_identity_id?: string;
  acs_user_id?: string;
  acs_credential_id?: string;
};

type EventsPageQuery = {
  /** Exclusive bounds, as Seam's `between` is; ISO 8601. */
  after: string;
  before: string;
  limit: number;
  pageCursor?: string;
  filter?: EventsFilter;
};

type EventsPage = {
  events: SeamEventJson[];
  /** Set when Seam says there is a next page of this query. */
  nextPageCursor: string | undefined;
};

export type SeamApi = {
  listIdentityFootprint: (userIdentityId: string) => Promise<IdentityFootprint>;
  /** The ACS user's linked identity; undefined when it has none. */
  getAcsUserIdentity: (acsUserId: string) => Promise<string | undefined>;
  getCredentialOwner: (
    acsCredentialId: string,
  ) => Promise<{ userIdentityId: string | undefined; acsUserId: string | undefined }>;
  listEventsPage: (query: EventsPageQuery) => Promise<EventsPage>;
};

/**
 * Every item of a list, following `pagination.next_page_cursor` while `has_next_page` says so.
 * Of the lists discovery reads, only `/acs/credentials/list` is paged in the pinned API version
 * (@seamapi/types 1.721.0); the others answer everything at once and carry no pagination, which
 * the paginator reads as a last page. If Seam pages them later, this follows.
 */
const listAll = async <TResponse, TKey extends keyof TResponse>(
  seam: SeamHttp,
  request: SeamHttpRequest<TResponse, TKey>,
  path: string,
) => {
  try {
    return await seam.createPaginator(request).flattenToArray();
  } catch (error) {
    throw toSeamError(error, path);
  }
};

const call = async <T>(request: PromiseLike<T>, path: string): Promise<T> => {
  try {
    return await request;
  } catch (error) {
    throw toSeamError(error, path);
  }
};

/** Seam ids are UUIDs; anything else (a malformed answer) is dropped rather than stored. */
const idsOf = <T>(items: readonly T[], field: keyof T): string[] => [
  ...new Set(
    items
      .map((item) => item[field])
      .filter((id): id is T[keyof T] & string => typeof id === "string" && UUID.test(id))
      .map((id) => id.toLowerCase()),
  ),
];

const optionalId = (value: unknown): string | undefined =>
  typeof value === "string" && UUID.test(value) ? value.toLowerCase() : undefined;

/** Items asked for per page of a paged list: Seam's own default for events, 500. */
const PAGE_LIMIT = 500;

export const createSeamApi = (options: SeamClientOptions): SeamApi => {
  const seam = createSeamHttp(options);
  // @seamapi/http 1.102.0 (like 1.83.0) marks enrollment automations "undocumented" and refuses the call
  // unless told; this opts in for that one route group, on the same client (same retries).
  const enrollmentAutomations = SeamHttpUserIdentitiesEnrollmentAutomations.fromClient(
    seam.client,
    { isUndocumentedApiEnabled: true },
  );
  return {
    listIdentityFootprint: async (userIdentityId) => {
      const id = { user_identity_id: userIdentityId };
      // Five independent reads: run together, so discovery takes the slowest, not the sum.
      const [acsUsers, credentials, phones, clientSessions, automations] = await Promise.all([
        listAll(seam, seam.userIdentities.listAcsUsers(id), "/user_identities/list_acs_users"),
        listAll(
          seam,
          seam.acs.credentials.list({ ...id, limit: PAGE_LIMIT }),
          "/acs/credentials/list",
        ),
        listAll(seam, seam.phones.list({ owner_user_identity_id: userIdentityId }), "/phones/list"),
        listAll(seam, seam.clientSessions.list(id), "/client_sessions/list"),
        listAll(
          seam,
          enrollmentAutomations.list(id),
          "/user_identities/enrollment_automations/list",
        ),
      ]);
      return {
        acs_user_ids: idsOf(acsUsers, "acs_user_id"),
        acs_credential_ids: idsOf(credentials, "acs_credential_id"),
        phone_ids: idsOf(phones, "device_id"),
        client_session_ids: idsOf(clientSessions, "client_session_id"),
        enrollment_automation_ids: idsOf(automations, "enrollment_automation_id"),
      };
    },
    getAcsUserIdentity: async (acsUserId) => {
      const user = await call(seam.acs.users.get({ acs_user_id: acsUserId }), "/acs/users/get");
      return optionalId(user.user_identity_id);
    },
    getCredentialOwner: async (acsCredentialId) => {
      const credential = await call(
        seam.acs.credentials.get({ acs_credential_id: acsCredentialId }),
        "/acs/credentials/get",
      );
      return {
        userIdentityId: optionalId(credential.user_identity_id),
        acsUserId: optionalId(credential.acs_user_id),
      };
    },
    listEventsPage: async (query) => {
      const request = seam.events.list({
        ...query.filter,
        between: [query.after, query.before],
        limit: query.limit,
      });
      const paginator = seam.createPaginator(request);
      // The paginator adds `page_cursor` to the same query (not a parameter of /events/list in
      // the pinned API version: it is only ever sent back when Seam gave one).
      const cursor = query.pageCursor as Parameters<typeof paginator.nextPage>[0] | undefined;
      try {
        const [events, pagination] = await (cursor === undefined
          ? paginator.firstPage()
          : paginator.nextPage(cursor));
        return {
          events: events as unknown as SeamEventJson[],
          nextPageCursor:
            pagination.hasNextPage && pagination.nextPageCursor !== null
              ? pagination.nextPageCursor
              : undefined,
        };
      } catch (error) {
        throw toSeamError(error, "/events/list");
      }
    },
  };
};
