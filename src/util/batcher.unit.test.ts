import { describe, expect, it } from "vitest";
import { createBatcher } from "./batcher.js";

describe("createBatcher", () => {
  it("groups items submitted in one turn into one flush, answering each with its own result", async () => {
    const flushes: number[][] = [];
    const batcher = createBatcher<number, number>({
      maxSize: 10,
      flush: async (items) => {
        flushes.push(items);
        return items.map((n) => n * 2);
      },
    });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results).toEqual([2, 4, 6]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it("caps a flush at maxSize and gathers what arrives meanwhile into the next", async () => {
    const flushes: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batcher = createBatcher<number, number>({
      maxSize: 2,
      flush: async (items) => {
        flushes.push(items);
        await gate;
        return items;
      },
    });
    const pending = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushes).toEqual([[1, 2]]);
    release();
    expect(await Promise.all(pending)).toEqual([1, 2, 3, 4, 5]);
    expect(flushes).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("fails every item of a failed flush, and only those", async () => {
    const batcher = createBatcher<number, number>({
      maxSize: 2,
      flush: async (items) => {
        if (items.includes(1)) throw new Error("boom");
        return items;
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    await batcher.drain();
  });
});
