import { describe, expect, it } from "vitest";
import { createRepeatLimiter } from "./repeat-limit.js";

describe("createRepeatLimiter", () => {
  it("writes the first line, then one a minute with the count held back", () => {
    let clock = 0;
    const limit = createRepeatLimiter({ intervalMs: 60_000, now: () => clock });
    const written: number[] = [];
    // One error a second for three minutes, as BullMQ's worker emits them with Redis down.
    for (clock = 0; clock < 180_000; clock += 1000) limit((repeats) => written.push(repeats));
    expect(written).toEqual([0, 59, 59]);
  });
});
