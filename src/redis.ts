import { Redis } from "ioredis";

/**
 * Producer side (ingress, health): fail fast. With the offline queue off, a command issued while
 * Redis is unreachable rejects at once instead of waiting for a reconnect, so the webhook route
 * can answer 503 within its deadline and Svix retries later.
 */
export const createProducerRedis = (url: string): Redis =>
  new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });

/**
 * Worker side: BullMQ requires `maxRetriesPerRequest: null` for blocking commands, and a worker
 * should wait out a Redis restart rather than fail; it reconnects and consumes again by itself.
 */
export const createWorkerRedis = (url: string): Redis =>
  new Redis(url, {
    maxRetriesPerRequest: null,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });

/**
 * Holds what is written to `redis` until the next `setImmediate`, the rest of this turn of the
 * event loop, and sends it then in one write: the socket is corked now and uncorked then. The
 * commands, their bytes and their order are what they would have been; what changes is the
 * number of writes, and that each command written in the window waits for its end (the rest of
 * the turn's callbacks: well under a millisecond). Not ioredis's auto-pipelining, which would
 * change how BullMQ's scripts are sent.
 *
 * For a batch of the projector's jobs completed together: each completion, success or failure,
 * is a BullMQ script (moveToFinished, which also takes the next job), written at once by ioredis
 * in the promise continuations after the batch, and a write on these machines costs tens of µs
 * in the kernel (the loopback delivers it to Redis in the writer's system call). The commit
 * that brought it says what it was measured at.
 */
export const writeTogetherThisTurn = (redis: Redis): void => {
  const socket = redis.stream;
  if (!socket || socket.writableCorked > 0) return;
  socket.cork();
  setImmediate(() => socket.uncork());
};
