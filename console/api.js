/**
 * The token and the calls to `/v1`. The token lives in this tab's sessionStorage and travels
 * only in `Authorization: Bearer` (CONTRACT §9): never in a URL, a query or a fragment.
 */
const KEY = "seam-projector.token";

export const readToken = () => sessionStorage.getItem(KEY);
export const saveToken = (token) => sessionStorage.setItem(KEY, token);
export const forgetToken = () => sessionStorage.removeItem(KEY);

/** A 401: the page drops the token and asks again. */
export class Refused extends Error {}

/** Another answer that is not 2xx, with the API's error envelope when it sent one. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

export const authorization = (token = readToken()) => ({ authorization: `Bearer ${token}` });

/** One call; the parsed JSON (null for 204), or a Refused or ApiError thrown. */
export const call = async (method, path, { body, token, signal } = {}) => {
  const response = await fetch(path, {
    method,
    headers: {
      ...authorization(token),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    signal,
  });
  if (response.status === 401) throw new Refused("the token was refused");
  const text = await response.text();
  const parsed = text === "" ? null : JSON.parse(text);
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
};

const identity = (id) => `/v1/user_identities/${encodeURIComponent(id)}`;

export const api = {
  service: (token) => call("GET", "/v1/service", { token }),
  deletions: (status) => call("GET", `/v1/deletions?status=${status}&limit=500`),
  readiness: (id) => call("GET", `${identity(id)}/readiness`),
  history: (id) => call("GET", `${identity(id)}/deletion/history`),
  execute: (id, strategy) =>
    call("POST", `${identity(id)}/deletion`, {
      body: strategy ? { execute: true, strategy } : { execute: true },
    }),
  cancel: (id) => call("DELETE", `${identity(id)}/deletion`),
};
