/**
 * A seeded pseudo-random source (mulberry32): the simulator draws every delay, drop, duplicate
 * and shuffle from it, so a run with the same seed and the same calls makes the same choices.
 */
export type Random = {
  /** Uniform in [0, 1). */
  next: () => number;
  /** Uniform integer in [min, max]. */
  between: (min: number, max: number) => number;
  /** True with probability `rate`. */
  chance: (rate: number) => boolean;
  /** A new array in another order (never the same order when it has two items or more). */
  shuffle: <T>(items: readonly T[]) => T[];
};

export const createRandom = (seed: number): Random => {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const between = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    between,
    chance: (rate) => rate > 0 && next() < rate,
    shuffle: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i -= 1) {
        const j = between(0, i);
        [out[i], out[j]] = [out[j] as (typeof out)[number], out[i] as (typeof out)[number]];
      }
      // A fault that asked for reordering must reorder: Fisher-Yates may keep the order.
      if (out.length > 1 && out.every((item, index) => item === items[index])) {
        out.push(out.shift() as (typeof out)[number]);
      }
      return out;
    },
  };
};
