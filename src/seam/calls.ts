import {
  isSeamHttpApiError,
  type SeamHttp,
  SeamHttpUserIdentitiesEnrollmentAutomations,
} from "@seamapi/http/connect";
import type { CallTarget } from "../shared/resources.js";
import { createSeamHttp, retryAfterOf, type SeamClientOptions, toSeamError } from "./client.js";

/**
 * The calls an execution makes (CONTRACT §8): one delete and one get per kind of resource,
 * through `@seamapi/http`. Each is one HTTP attempt: the execution's queue retries, so that a
 * call waiting out a `Retry-After` holds no slot of SEAM_API_CONCURRENCY, and the answer says
 * how long Seam asked to wait. The answer is a
 * value the caller switches on, never an exception.
 */
export type SeamCallOutcome =
  | { kind: "ok" }
  /** A delete of what is already gone, or a get that finds nothing. */
  | { kind: "not_found" }
  | { kind: "unavailable"; retryAfterMs: number | undefined; message: string }
  | { kind: "unauthorized"; message: string }
  | { kind: "rejected"; message: string };

export type SeamCalls = {
  /** The route a call goes to, as metrics and the calls table name it. */
  route: (action: "delete" | "get", target: CallTarget) => string;
  delete: (target: CallTarget, id: string) => Promise<SeamCallOutcome>;
  /** `ok`: the resource is still there. */
  get: (target: CallTarget, id: string) => Promise<SeamCallOutcome>;
};

type Route = { path: string; send: (id: string) => PromiseLike<unknown> };

/** Seam's request id of a failed attempt: it is on the raw answer and on the error thrown. */
const requestIdOf = (error: unknown): string | undefined => {
  if (isSeamHttpApiError(error)) return error.requestId ?? undefined;
  const headers = (error as { response?: { headers?: Record<string, unknown> } }).response?.headers;
  const id = headers?.["seam-request-id"];
  return typeof id === "string" ? id : undefined;
};

/**
 * Retry-After of the attempts that failed, by Seam request id, until the call reads it: the
 * error @seamapi/http throws keeps the request id but not the headers. Bounded, in case a
 * reader never comes.
 */
const createRetryAfters = () => {
  const byRequest = new Map<string, number | undefined>();
  return {
    observe: (error: unknown) => {
      const id = requestIdOf(error);
      if (id === undefined) return;
      if (byRequest.size >= 1000) byRequest.clear();
      byRequest.set(id, retryAfterOf(error));
    },
    take: (error: unknown): number | undefined => {
      const id = requestIdOf(error);
      if (id === undefined) return retryAfterOf(error);
      const value = byRequest.get(id);
      byRequest.delete(id);
      return value ?? retryAfterOf(error);
    },
  };
};

const outcomeOf = (
  error: unknown,
  path: string,
  retryAfter: (error: unknown) => number | undefined,
): SeamCallOutcome => {
  const failure = toSeamError(error, path);
  switch (failure.code) {
    case "not_found":
      return { kind: "not_found" };
    case "seam_api_unauthorized":
      return { kind: "unauthorized", message: failure.message };
    case "seam_api_rejected":
      return { kind: "rejected", message: failure.message };
    default:
      return { kind: "unavailable", retryAfterMs: retryAfter(error), message: failure.message };
  }
};

const routesOf = (seam: SeamHttp) => {
  // Marked undocumented by @seamapi/http and refused unless opted in, as in api.ts.
  const automations = SeamHttpUserIdentitiesEnrollmentAutomations.fromClient(seam.client, {
    isUndocumentedApiEnabled: true,
  });
  const deletes: Record<CallTarget, Route> = {
    client_session: {
      path: "/client_sessions/delete",
      send: (id) => seam.clientSessions.delete({ client_session_id: id }),
    },
    acs_credential: {
      path: "/acs/credentials/delete",
      send: (id) => seam.acs.credentials.delete({ acs_credential_id: id }),
    },
    acs_user: {
      path: "/acs/users/delete",
      send: (id) => seam.acs.users.delete({ acs_user_id: id }),
    },
    enrollment_automation: {
      path: "/user_identities/enrollment_automations/delete",
      send: (id) => automations.delete({ enrollment_automation_id: id }),
    },
    phone: { path: "/phones/deactivate", send: (id) => seam.phones.deactivate({ device_id: id }) },
    user_identity: {
      path: "/user_identities/delete",
      send: (id) => seam.userIdentities.delete({ user_identity_id: id }),
    },
  };
  const gets: Record<CallTarget, Route> = {
    client_session: {
      path: "/client_sessions/get",
      send: (id) => seam.clientSessions.get({ client_session_id: id }),
    },
    acs_credential: {
      path: "/acs/credentials/get",
      send: (id) => seam.acs.credentials.get({ acs_credential_id: id }),
    },
    acs_user: { path: "/acs/users/get", send: (id) => seam.acs.users.get({ acs_user_id: id }) },
    enrollment_automation: {
      path: "/user_identities/enrollment_automations/get",
      send: (id) => automations.get({ enrollment_automation_id: id }),
    },
    phone: { path: "/phones/get", send: (id) => seam.phones.get({ device_id: id }) },
    user_identity: {
      path: "/user_identities/get",
      send: (id) => seam.userIdentities.get({ user_identity_id: id }),
    },
  };
  return { deletes, gets };
};

export const createSeamCalls = (options: SeamClientOptions): SeamCalls => {
  const retryAfters = createRetryAfters();
  const { deletes, gets } = routesOf(createSeamHttp(options, retryAfters.observe));
  const send = async (route: Route, id: string): Promise<SeamCallOutcome> => {
    try {
      await route.send(id);
      return { kind: "ok" };
    } catch (error) {
      return outcomeOf(error, route.path, retryAfters.take);
    }
  };
  return {
    route: (action, target) => (action === "delete" ? deletes : gets)[target].path,
    delete: (target, id) => send(deletes[target], id),
    get: (target, id) => send(gets[target], id),
  };
};
