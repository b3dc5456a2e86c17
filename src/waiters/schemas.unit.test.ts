import { describe, expect, it } from "vitest";
import { waitQuery } from "./schemas.js";

describe("the long-poll query", () => {
  it("reads wait as whole seconds, above 60 as 60, and nothing else", () => {
    expect(waitQuery.parse({})).toEqual({});
    expect(waitQuery.parse({ wait: "0" })).toEqual({ wait: 0 });
    expect(waitQuery.parse({ wait: "45" })).toEqual({ wait: 45 });
    expect(waitQuery.parse({ wait: "61" })).toEqual({ wait: 60 });
    expect(waitQuery.parse({ wait: "99999999999999999999" })).toEqual({ wait: 60 });
    for (const wait of ["", "1.5", "-1", "1e3", " 5", "0x10", "five"]) {
      expect(waitQuery.safeParse({ wait }).success).toBe(false);
    }
  });
});
