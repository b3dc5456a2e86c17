import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { queuedEventSources } from "../shared/resources.js";
import { sha256Hex } from "../util/sha256.js";

/** The one queue of this service: verified Seam events waiting to be projected. */
export const EVENTS_QUEUE = "seam-events";

export type EventSource = (typeof queuedEventSources)[number];

/** A job carries the body exactly as signed; the worker stores it before it parses it. */
export type EventJob = { body: string; eventId: string; receivedAt: string; source: EventSource };

export type EventsQueue = Queue<EventJob>;

/** An event id BullMQ can take as the first part of a job id (no ':'), leaving room for the rest. */
const SAFE_EVENT_ID = /^[A-Za-z0-9_.-]{1,183}$/;

/**
 * The job id is the event id and a hash of the body (`<event id>.<16 hex>`), so BullMQ itself
 * drops a redelivery of the same bytes while the first job is kept (queued, completed within the
 * hour, or failed), and a delivery of the same id with another body reaches the projector,
 * which records it as a conflict (CONTRACT §3). An event id BullMQ cannot take (a ':', too long)
 * is hashed into a safe one. At most 200 characters, as the admin routes take.
 */
export const jobIdFor = (eventId: string, body: string): string => {
  const id = SAFE_EVENT_ID.test(eventId) ? eventId : `sha256-${sha256Hex(eventId)}`;
  return `${id}.${sha256Hex(body).slice(0, 16)}`;
};

export const createEventsQueue = (connection: Redis, prefix: string): EventsQueue =>
  new Queue<EventJob>(EVENTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      // Transient faults (Postgres down) retry with exponential backoff plus jitter; after the
      // last attempt the job stays in the failed set, where an operator can re-drive it.
      attempts: 12,
      backoff: { type: "exponential", delay: 500, jitter: 0.5 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: false,
    },
  });

/**
 * Adds events in one round trip (BullMQ's addBulk is one MULTI), each under its job id (above)
 * so that a repeat of a kept job is dropped. Resolves once Redis has them.
 */
export const addEvents = (queue: EventsQueue, jobs: EventJob[]) =>
  queue.addBulk(
    jobs.map((data) => ({
      name: "event",
      data,
      opts: { jobId: jobIdFor(data.eventId, data.body) },
    })),
  );
