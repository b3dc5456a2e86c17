import { describe, expect, it } from "vitest";
import { closeInOrder } from "./lifecycle.js";

describe("closeInOrder", () => {
  it("closes every part in order, even past one that throws, then throws what failed", async () => {
    const closed: string[] = [];
    const failure = new Error("redis did not answer");
    const closing = closeInOrder([
      () => void closed.push("server"),
      undefined,
      async () => {
        closed.push("redis");
        throw failure;
      },
      () => {
        closed.push("queue");
        throw new Error("sync failure");
      },
      async () => void closed.push("pool"),
    ]);
    const error = await closing.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(closed).toEqual(["server", "redis", "queue", "pool"]);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors[0]).toBe(failure);
    expect((error as AggregateError).errors).toHaveLength(2);
  });

  it("throws a lone failure as itself, and nothing when every part closed", async () => {
    const failure = new Error("pool end timed out");
    await expect(closeInOrder([() => Promise.reject(failure), () => {}])).rejects.toBe(failure);
    await expect(closeInOrder([() => {}, async () => {}])).resolves.toBeUndefined();
  });
});
