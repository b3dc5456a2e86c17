import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { createLogger, type Logger } from "../../src/log.js";
import { createWorkerRedis } from "../../src/redis.js";
import { freePort, type ServerChild, startServerChild } from "./process.js";
import { waitFor } from "./wait-for.js";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A queue prefix of this test's own, so tests never see each other's jobs. */
export const testPrefix = (): string => `sp-test-${randomBytes(5).toString("hex")}`;

/** Deletes every key under a prefix (the queue's hashes, lists and streams). */
export const dropPrefix = async (prefix: string, url = REDIS_URL): Promise<void> => {
  const redis = new Redis(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
};

/** True when a Redis at `url` answers PING now; one try, no reconnecting. */
const redisAnswers = async (url: string): Promise<boolean> => {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } finally {
    probe.disconnect();
  }
};

export type RedisServer = ServerChild & { url: string; port: number; close: () => Promise<void> };

/**
 * A redis-server of the test's own on a free port of 127.0.0.1, for a test that stops Redis.
 * `persistent` keeps the data across a stop as production must (AOF with an fsync before every
 * reply, so a job whose add was acknowledged survives even a SIGKILL); otherwise it comes back
 * empty, as a replacement server would.
 */
export const startRedisServer = async (
  options: { persistent?: boolean } = {},
): Promise<RedisServer> => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = options.persistent ? await mkdtemp(path.join(tmpdir(), "sp-redis-")) : undefined;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", ""].concat(
    dir ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir] : ["--appendonly", "no"],
  );
  const server = await startServerChild("redis-server", args, {
    ready: () => redisAnswers(url),
    name: `redis-server on port ${port}`,
  });
  return Object.assign(server, {
    url,
    port,
    close: async () => {
      await server.stop("SIGTERM");
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  });
};

/**
 * Starts a BullMQ worker (`start`, given a connection to a port nobody listens on and a logger)
 * and returns how many of its log lines say `message` once ioredis has failed to connect six
 * times (about 3 s): BullMQ emits `error` about once a second while Redis is down.
 */
export const errorLinesWhileRedisIsDown = async (
  message: string,
  start: (deps: {
    connection: Redis;
    log: Logger;
  }) => Promise<{ close: () => Promise<unknown> }> | { close: () => Promise<unknown> },
): Promise<number> => {
  const connection = createWorkerRedis(`redis://127.0.0.1:${await freePort()}`);
  let attempts = 0;
  connection.on("error", () => {
    attempts += 1;
  });
  const lines: { msg: string }[] = [];
  const log = createLogger(
    "error",
    {},
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );
  const worker = await start({ connection, log });
  try {
    await waitFor(() => attempts >= 6, { message: "six failed connection attempts" });
    return lines.filter((line) => line.msg === message).length;
  } finally {
    connection.disconnect();
    await worker.close();
  }
};

type SocketInternals = {
  _write: (chunk: unknown, encoding: unknown, callback: unknown) => void;
  _writev: (chunks: unknown[], callback: unknown) => void;
};

/**
 * Records the writes the connection's socket hands to the system, single or vectored, as the
 * number of chunks each one carried, by wrapping its own methods on the instance; the function
 * returned stops recording and gives them.
 */
export const recordWrites = (redis: Redis): (() => number[]) => {
  const writes: number[] = [];
  const socket = redis.stream;
  const internals = socket as unknown as SocketInternals;
  const { _write: write, _writev: writev } = internals;
  internals._write = (chunk, encoding, callback) => {
    writes.push(1);
    write.call(socket, chunk, encoding, callback);
  };
  internals._writev = (chunks, callback) => {
    writes.push(chunks.length);
    writev.call(socket, chunks, callback);
  };
  return () => {
    const own = socket as unknown as Partial<SocketInternals>;
    delete own._write;
    delete own._writev;
    return writes;
  };
};
