import { describe, expect, it } from "vitest";
import { identityParams } from "../shared/api.js";
import { linksBody } from "./schemas.js";

describe("request schemas", () => {
  it("lower-cases ids, so they compare equal to what Postgres prints", () => {
    const id = "7B0C3A5E-2F4D-4C1B-9A8E-0D6F5E4C3B2A";
    expect(identityParams.parse({ user_identity_id: id })).toEqual({
      user_identity_id: id.toLowerCase(),
    });
    expect(linksBody.parse({ phone_ids: [id] })).toEqual({ phone_ids: [id.toLowerCase()] });
  });

  it("refuses unknown fields and more than 1,000 ids in a list", () => {
    expect(linksBody.safeParse({ phone_id: [] }).success).toBe(false);
    const many = Array.from({ length: 1001 }, () => "7b0c3a5e-2f4d-4c1b-9a8e-0d6f5e4c3b2a");
    expect(linksBody.safeParse({ acs_user_ids: many }).success).toBe(false);
    expect(linksBody.safeParse({ acs_user_ids: many.slice(1) }).success).toBe(true);
  });

  it("stops at a list's length, validating none of its elements", () => {
    // 450,000 non-ids: one issue for the length, not one an element (seconds of CPU).
    const result = linksBody.safeParse({ acs_user_ids: new Array(450_000).fill(0) });
    expect(result.error?.issues.map((issue) => [issue.code, issue.path])).toEqual([
      ["too_big", ["acs_user_ids"]],
    ]);
  });
});
