import { randomUUID } from "node:crypto";
import { signBody } from "../src/replay/sign.js";
import { monotonicMs } from "./clock.js";
import type { SeamEventJson } from "./events.js";
import type { Random } from "./random.js";
import type { Scheduler } from "./scheduler.js";

/**
 * Posts the workspace's events to the webhook target as Svix does for Seam: each message signed
 * with the target's secret (svix's `Webhook.sign`), retried with backoff after a non-2xx answer or
 * a connection error. Faults: a duplicate post of the same message, and a batch (the events that
 * became due within one window) posted in shuffled order.
 */

export type WebhookTarget = { url: string; secret: string };

type PostedWebhook = {
  eventType: string;
  eventId: string;
  /** The svix-id: a duplicate or a retry carries the same one, as Svix's redeliveries do. */
  messageId: string;
  resourceId: string;
  at: Date;
  /** When the post was sent and when it was answered (sim/clock.ts). */
  sentMs: number;
  answeredMs: number;
  /** The target's answer, or `connection_error` (refused, reset, timed out). */
  status: number | "connection_error";
  /** 1 for the first attempt of a post, 2 for its first retry … */
  attempt: number;
};

export type WebhookOptions = {
  target?: WebhookTarget | undefined;
  /** Waits before each retry; its length is how many retries. Svix's own start at 5 s. */
  retryDelaysMs?: number[];
  /** Events that become due within this window are one batch (posted together). */
  batchWindowMs?: number;
  duplicateRate?: number;
  reorder?: boolean;
  /** Longest a post may take before it counts as a connection error. */
  timeoutMs?: number;
};

type Message = { event: SeamEventJson; resourceId: string; messageId: string };

export const createWebhookPoster = (
  options: WebhookOptions,
  deps: { random: Random; scheduler: Scheduler; log: (line: string) => void },
) => {
  let target = options.target;
  const retryDelaysMs = options.retryDelaysMs ?? [50, 200, 1_000];
  const posted: PostedWebhook[] = [];
  let batch: Message[] = [];
  const { random, scheduler, log } = deps;

  const attempt = async (message: Message, number: number): Promise<void> => {
    if (target === undefined) {
      log(`webhook ${message.event.event_type} ${message.resourceId}: no webhook target, not sent`);
      return;
    }
    const body = JSON.stringify(message.event);
    const sentMs = monotonicMs();
    let status: PostedWebhook["status"];
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...signBody(target.secret, body, { messageId: message.messageId }),
        },
        body,
        signal: AbortSignal.any([
          scheduler.signal,
          AbortSignal.timeout(options.timeoutMs ?? 5_000),
        ]),
      });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      if (scheduler.closed) return;
      status = "connection_error";
    }
    posted.push({
      eventType: message.event.event_type,
      eventId: message.event.event_id,
      messageId: message.messageId,
      resourceId: message.resourceId,
      at: new Date(),
      sentMs,
      answeredMs: monotonicMs(),
      status,
      attempt: number,
    });
    log(
      `webhook ${message.event.event_type} ${message.resourceId} → ${status} (attempt ${number})`,
    );
    const ok = typeof status === "number" && status >= 200 && status < 300;
    const delay = retryDelaysMs[number - 1];
    if (!ok && delay !== undefined) scheduler.after(delay, () => attempt(message, number + 1));
  };

  const flush = async () => {
    const due = options.reorder ? random.shuffle(batch) : batch;
    batch = [];
    // One after the other, so the order of a batch is the order the target receives it in.
    for (const message of due) {
      await attempt(message, 1);
      if (random.chance(options.duplicateRate ?? 0)) await attempt(message, 1);
    }
  };

  return {
    posted,
    setTarget: (next: WebhookTarget | undefined) => {
      target = next;
    },
    /** Queues the event of `resourceId` into the current batch. */
    send: (event: SeamEventJson, resourceId: string) => {
      if (batch.length === 0) scheduler.after(options.batchWindowMs ?? 10, flush);
      batch.push({ event, resourceId, messageId: `msg_${randomUUID().replaceAll("-", "")}` });
    },
  };
};

export type WebhookPoster = ReturnType<typeof createWebhookPoster>;
