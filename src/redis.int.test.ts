import { afterAll, describe, expect, it } from "vitest";
import { REDIS_URL, recordWrites } from "../test/helpers/redis.js";
import { createWorkerRedis, writeTogetherThisTurn } from "./redis.js";

describe("writeTogetherThisTurn, against Redis", () => {
  const redis = createWorkerRedis(REDIS_URL);
  afterAll(() => {
    redis.disconnect();
  });

  it("sends the commands of the rest of the turn in one write, each answered as without it", async () => {
    await redis.ping();
    const together = recordWrites(redis);
    writeTogetherThisTurn(redis);
    // As BullMQ sends its completions: each after a few promise hops, some from a nextTick.
    const echo = async (index: number) => {
      for (let hop = 0; hop < index % 4; hop += 1) await Promise.resolve();
      if (index % 5 === 0) await new Promise((resolve) => process.nextTick(resolve));
      return redis.echo(`message ${index}`);
    };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, index) => echo(index)));
    expect(answers).toEqual(Array.from({ length: 20 }, (_, index) => `message ${index}`));
    expect(together()).toEqual([20]);
    expect(redis.stream.writableCorked).toBe(0);

    // The next turn writes as before: a command alone, written at once.
    const alone = recordWrites(redis);
    await Promise.all([redis.echo("a"), redis.echo("b")]);
    expect(alone()).toEqual([1, 1]);
  });

  it("corks once however often it is called in a turn, and is uncorked after it", async () => {
    await redis.ping();
    writeTogetherThisTurn(redis);
    writeTogetherThisTurn(redis);
    expect(redis.stream.writableCorked).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(redis.stream.writableCorked).toBe(0);
  });
});
