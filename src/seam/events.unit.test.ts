import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildLoneDeletionEvent } from "../../sim/events.js";
import { checkSeamEvent } from "./events.js";

/**
 * patches/zod+3.25.76.patch keeps one RegExp per datetime check instead of building one on
 * every parse. Shared, a RegExp that kept state between calls (a `g` or `y` flag's lastIndex)
 * would fail every other string; a cache keyed wrongly would hold one check to another's rule.
 */
describe("checkSeamEvent's datetime checks, with zod's RegExp built once per check", () => {
  const event = (): Record<string, unknown> =>
    buildLoneDeletionEvent("acs_user", crypto.randomUUID());

  it("accepts every valid date, one after another on the same schema", () => {
    for (let i = 0; i < 5; i += 1) {
      expect(
        checkSeamEvent({ ...event(), occurred_at: new Date(Date.UTC(2026, i, 1)).toISOString() }),
      ).toMatchObject({ ok: true });
    }
  });

  it("refuses a date that is not one, between valid ones", () => {
    expect(checkSeamEvent(event())).toMatchObject({ ok: true });
    const bad = checkSeamEvent({ ...event(), occurred_at: "2026-13-01T00:00:00.000Z" });
    expect(bad).toEqual({ ok: false, error: expect.stringContaining("occurred_at") });
    expect(checkSeamEvent({ ...event(), occurred_at: "yesterday" })).toMatchObject({ ok: false });
    expect(checkSeamEvent(event())).toMatchObject({ ok: true });
  });

  it("checks each datetime field of an event on its own", () => {
    const valid = event();
    const bad = checkSeamEvent({ ...valid, created_at: "2026-12-01" });
    expect(bad).toEqual({ ok: false, error: expect.stringContaining("created_at") });
    expect(bad).toEqual({ ok: false, error: expect.not.stringContaining("occurred_at") });
    expect(checkSeamEvent(valid)).toMatchObject({ ok: true });
  });

  // Seam's schemas all use plain .datetime(), so a cache that held one check to another's RegExp
  // would pass the tests above; checks with different options tell it.
  it("holds each datetime check to its own options, interleaved on the same input", () => {
    const plain = z.string().datetime();
    const offset = z.string().datetime({ offset: true });
    const millis = z.string().datetime({ precision: 3 });
    for (let i = 0; i < 3; i += 1) {
      expect(plain.safeParse("2026-12-01T00:00:00+02:00").success).toBe(false);
      expect(offset.safeParse("2026-12-01T00:00:00+02:00").success).toBe(true);
      expect(millis.safeParse("2026-12-01T00:00:00Z").success).toBe(false);
      expect(plain.safeParse("2026-12-01T00:00:00Z").success).toBe(true);
      expect(millis.safeParse("2026-12-01T00:00:00.000Z").success).toBe(true);
    }
  });
});
