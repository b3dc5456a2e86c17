import { describe, expect, it } from "vitest";
import { closeInOrder, within } from "./lifecycle.js";

describe("closeInOrder", () => {
  it("closes every part in order, even past one that throws, then throws what failed", async () => {
    const closed: string[] = [];
    const failure = new Error("redis did not answer");
    const closing = closeInOrder([
      ["server", () => void closed.push("server")],
      ["absent", undefined],
      [
        "redis",
        async () => {
          closed.push("redis");
          throw failure;
        },
      ],
      [
        "queue",
        () => {
          closed.push("queue");
          throw new Error("sync failure");
        },
      ],
      ["pool", async () => void closed.push("pool")],
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
    await expect(
      closeInOrder([
        ["pool", () => Promise.reject(failure)],
        ["server", () => {}],
      ]),
    ).rejects.toBe(failure);
    await expect(
      closeInOrder([
        ["server", () => {}],
        ["pool", async () => {}],
      ]),
    ).resolves.toBeUndefined();
  });

  it("names each part as it begins, nested parts under their own, absent ones not at all", async () => {
    const heard: string[] = [];
    let release = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const onClosing = (part: string) => void heard.push(part);
    const closing = closeInOrder(
      [
        ["http", undefined],
        [
          "worker",
          () =>
            closeInOrder(
              [
                ["retention", () => {}],
                ["projector", () => stuck],
              ],
              within("worker", onClosing),
            ),
        ],
        ["core", () => {}],
      ],
      onClosing,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual(["worker", "worker: retention", "worker: projector"]);
    release();
    await closing;
    expect(heard.at(-1)).toBe("core");
  });
});
