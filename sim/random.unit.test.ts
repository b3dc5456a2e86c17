import { describe, expect, it } from "vitest";
import { createRandom } from "./random.js";

describe("the simulator's seeded random source", () => {
  it("repeats its sequence for a seed, and another seed gives another", () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 8 }, () => random.between(20, 200));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
    expect(draw(3).every((value) => value >= 20 && value <= 200)).toBe(true);
  });

  it("shuffles into another order, keeping every item", () => {
    const random = createRandom(1);
    for (let length = 2; length < 8; length += 1) {
      const items = Array.from({ length }, (_, index) => index);
      for (let round = 0; round < 50; round += 1) {
        const shuffled = random.shuffle(items);
        expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
        expect(shuffled).not.toEqual(items);
      }
    }
  });
});
