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
