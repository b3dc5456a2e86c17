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

const SAFE_JOB_ID = /^[A-Za-z0-9_.-]{1,200}$/;

/**
 * The job id is the event id, so BullMQ itself drops a duplicate delivery while the first is
 * still queued. BullMQ rejects ids containing ':' and treats all-digit ids as its own counters,
 * so anything else is hashed into a safe id.
 */
export const jobIdFor = (eventId: string): string =>
  SAFE_JOB_ID.test(eventId) && !/^\d+$/.test(eventId) ? eventId : `sha256-${sha256Hex(eventId)}`;

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
 * Adds events in one round trip (BullMQ's addBulk is one MULTI), each under its event's job id
 * so that a duplicate of a queued event is dropped. Resolves once Redis has them.
 */
export const addEvents = (queue: EventsQueue, jobs: EventJob[]) =>
  queue.addBulk(
    jobs.map((data) => ({ name: "event", data, opts: { jobId: jobIdFor(data.eventId) } })),
  );
