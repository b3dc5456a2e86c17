import type { Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { REDIS_URL } from "../test/helpers/redis.js";
import { createWorkerRedis, writeTogetherThisTurn } from "./redis.js";

type Internals = {
  _write: (chunk: unknown, encoding: unknown, callback: unknown) => void;
  _writev: (chunks: unknown[], callback: unknown) => void;
};

/**
 * Counts the writes the socket hands to the system (single and vectored) until `stop`, by
 * wrapping its own methods on the instance; `stop` removes the wrappers.
 */
const countWrites = (socket: Socket) => {
  const counts = { writes: 0, chunks: 0 };
  const internals = socket as unknown as Internals;
  const { _write: write, _writev: writev } = internals;
  internals._write = (chunk, encoding, callback) => {
    counts.writes += 1;
    counts.chunks += 1;
    write.call(socket, chunk, encoding, callback);
  };
  internals._writev = (chunks, callback) => {
    counts.writes += 1;
    counts.chunks += chunks.length;
    writev.call(socket, chunks, callback);
  };
  const stop = () => {
    const own = socket as unknown as Partial<Internals>;
    delete own._write;
    delete own._writev;
    return counts;
  };
  return stop;
};

describe("writeTogetherThisTurn, against Redis", () => {
  const redis = createWorkerRedis(REDIS_URL);
  afterAll(() => {
    redis.disconnect();
  });

  it("sends the commands of one turn in one write, each answered as without it", async () => {
    await redis.ping();
    const together = countWrites(redis.stream as Socket);
    writeTogetherThisTurn(redis);
    writeTogetherThisTurn(redis);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => redis.echo(`message ${index}`)),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, index) => `message ${index}`));
    expect(together()).toEqual({ writes: 1, chunks: 20 });
    expect(redis.stream.writableCorked).toBe(0);

    // The next turn writes as before: a command alone, written at once.
    const alone = countWrites(redis.stream as Socket);
    await Promise.all([redis.echo("a"), redis.echo("b")]);
    expect(alone()).toEqual({ writes: 2, chunks: 2 });
  });
});
