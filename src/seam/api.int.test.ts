import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeSeam, startFakeSeam } from "../../test/helpers/fake-seam.js";
import { AppError } from "../errors.js";
import { createSeamApi, type SeamApi } from "./api.js";

const footprint = () => ({
  acs_user_ids: [randomUUID(), randomUUID()],
  acs_credential_ids: Array.from({ length: 5 }, () => randomUUID()),
  phone_ids: [randomUUID()],
  client_session_ids: [randomUUID()],
  enrollment_automation_ids: [randomUUID()],
});

const sorted = (ids: string[]) => [...ids].sort();

/** The AppError a call failed with (the test fails if it succeeded). */
const failureOf = async (promise: Promise<unknown>): Promise<AppError> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
};

describe("Seam API client against a fake Seam API", () => {
  let seam: FakeSeam;
  let api: SeamApi;
  beforeAll(async () => {
    seam = await startFakeSeam({ pageSize: 2 });
    api = createSeamApi({
      apiKey: seam.apiKey,
      endpoint: seam.url,
      timeoutMs: 300,
      retries: 3,
      baseDelayMs: 20,
      maxDelayMs: 100,
      maxRetryAfterMs: 2_000,
    });
  });
  afterAll(async () => {
    await seam.close();
  });

  it("lists an identity's resources, following every page of a paged list", async () => {
    const identityId = randomUUID();
    const owned = footprint();
    seam.addIdentity(identityId, owned);
    const before = seam.calls("/acs/credentials/list").length;
    const found = await api.listIdentityFootprint(identityId);
    expect(sorted(found.acs_credential_ids)).toEqual(sorted(owned.acs_credential_ids));
    expect(sorted(found.acs_user_ids)).toEqual(sorted(owned.acs_user_ids));
    expect(found.phone_ids).toEqual(owned.phone_ids);
    expect(found.client_session_ids).toEqual(owned.client_session_ids);
    expect(found.enrollment_automation_ids).toEqual(owned.enrollment_automation_ids);
    // Five credentials at two a page: three requests, the last two following a cursor.
    const pages = seam.calls("/acs/credentials/list").slice(before);
    expect(pages).toHaveLength(3);
    expect(pages.map((request) => request.params.page_cursor !== undefined)).toEqual([
      false,
      true,
      true,
    ]);
  });

  it("retries a 429 no sooner than its Retry-After says", async () => {
    const acsUserId = randomUUID();
    const identityId = randomUUID();
    seam.addAcsUser(acsUserId, identityId);
    seam.fault("/acs/users/get", { status: 429, retryAfter: "1" });
    const started = Date.now();
    await expect(api.getAcsUserIdentity(acsUserId)).resolves.toBe(identityId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("retries a 500, and gives up after its bound with seam_api_unavailable", async () => {
    const acsUserId = randomUUID();
    seam.addAcsUser(acsUserId, undefined);
    seam.fault("/acs/users/get", { status: 500 });
    await expect(api.getAcsUserIdentity(acsUserId)).resolves.toBeUndefined();

    const before = seam.calls("/acs/users/get").length;
    seam.fault("/acs/users/get", ...Array.from({ length: 4 }, () => ({ status: 503 })));
    const error = await failureOf(api.getAcsUserIdentity(acsUserId));
    expect(error.code).toBe("seam_api_unavailable");
    expect(error.message).toContain("answered 503");
    expect(seam.calls("/acs/users/get").length - before).toBe(4); // 1 attempt + 3 retries
  });

  it("does not wait out a Retry-After beyond its bound", async () => {
    const acsUserId = randomUUID();
    seam.addAcsUser(acsUserId, undefined);
    const before = seam.calls("/acs/users/get").length;
    seam.fault("/acs/users/get", { status: 429, retryAfter: "3600" });
    const started = Date.now();
    const error = await failureOf(api.getAcsUserIdentity(acsUserId));
    expect(error.code).toBe("seam_api_unavailable");
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seam.calls("/acs/users/get").length - before).toBe(1);
  });

  it("times a slow answer out and retries it; always slow ends unavailable, within the bound", async () => {
    const credentialId = randomUUID();
    const acsUserId = randomUUID();
    seam.addCredential(credentialId, { acs_user_id: acsUserId });
    seam.fault("/acs/credentials/get", { delayMs: 2_000 });
    await expect(api.getCredentialOwner(credentialId)).resolves.toEqual({
      userIdentityId: undefined,
      acsUserId,
    });

    seam.fault("/acs/credentials/get", ...Array.from({ length: 4 }, () => ({ delayMs: 2_000 })));
    const started = Date.now();
    const error = await failureOf(api.getCredentialOwner(credentialId));
    expect(error.code).toBe("seam_api_unavailable");
    expect(error.message).toContain("timed out");
    // 4 attempts of 300 ms plus 3 waits of at most 100 ms.
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it("stops at a 401 at once, with a message that names the key", async () => {
    const wrong = createSeamApi({ apiKey: "seam_wrong_key", endpoint: seam.url, retries: 3 });
    const before = seam.calls("/user_identities/list_acs_users").length;
    const error = await failureOf(wrong.listIdentityFootprint(randomUUID()));
    expect(error.code).toBe("seam_api_unauthorized");
    expect(error.message).toMatch(/rejected SEAM_API_KEY \(401/);
    expect(seam.calls("/user_identities/list_acs_users").length - before).toBe(1);
  });
});
