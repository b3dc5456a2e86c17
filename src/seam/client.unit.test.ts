import { describe, expect, it } from "vitest";
import { isRetryable, parseRetryAfter, retryDelayMs } from "./client.js";

const policy = { baseDelayMs: 200, maxDelayMs: 5_000, maxRetryAfterMs: 10_000 };

describe("retry policy", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-28T10:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3_000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("Sat, 28 Nov 2026 10:00:07 GMT", now)).toBe(7_000);
    expect(parseRetryAfter("Sat, 28 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it("backs off exponentially with full jitter, capped, never below Retry-After", () => {
    expect([1, 2, 3, 4].map((retry) => retryDelayMs(retry, undefined, policy, () => 1))).toEqual([
      200, 400, 800, 1_600,
    ]);
    expect(retryDelayMs(10, undefined, policy, () => 1)).toBe(5_000);
    expect(retryDelayMs(3, undefined, policy, () => 0)).toBe(0);
    expect(retryDelayMs(3, undefined, policy, () => 0.5)).toBe(400);
    expect(retryDelayMs(1, 2_000, policy, () => 1)).toBe(2_000);
  });

  it("retries 429, 5xx and failures without an answer; not other statuses or long Retry-Afters", () => {
    const answer = (status: number, retryAfter?: string) => ({
      response: { status, headers: retryAfter === undefined ? {} : { "retry-after": retryAfter } },
    });
    expect(isRetryable(answer(429), policy)).toBe(true);
    expect(isRetryable(answer(500), policy)).toBe(true);
    expect(isRetryable(answer(503, "5"), policy)).toBe(true);
    expect(isRetryable({ code: "ECONNABORTED" }, policy)).toBe(true);
    expect(isRetryable(answer(401), policy)).toBe(false);
    expect(isRetryable(answer(400), policy)).toBe(false);
    expect(isRetryable(answer(404), policy)).toBe(false);
    expect(isRetryable(answer(429, "60"), policy)).toBe(false);
  });
});
