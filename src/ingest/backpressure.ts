/** Whether the ingress may accept one more event, and the depth that decided it. */
type Admission = { ok: true } | { ok: false; depth: number };

export type QueueGate = { admit: () => Admission };

/**
 * Backpressure for the ingress. The ingress accepts faster than a worker projects, so without
 * a bound the queue (and Redis' memory, which must never evict) grows for as long as a burst
 * or a worker outage lasts. Above `maxDepth` waiting jobs, webhooks are refused with a 503 and
 * Svix keeps them and retries later.
 *
 * Asking Redis for the depth on every request would add a round trip to each webhook, so the
 * gate estimates it: the last depth read, plus the events this process admitted since that read
 * began. The read is refreshed in the background once older than `maxAgeMs` (one in flight at
 * most, none while no webhook arrives). The bound is exact for one API process; with several,
 * each sees the others' events at its next read. A failed read keeps the last figure, since an
 * unreachable Redis is answered by the enqueue timeout anyway.
 */
export const createQueueGate = (options: {
  maxDepth: number;
  readDepth: () => Promise<number>;
  maxAgeMs?: number;
  now?: () => number;
}): QueueGate => {
  const maxAgeMs = options.maxAgeMs ?? 250;
  const now = options.now ?? Date.now;
  let depth = 0;
  let admittedSinceRead = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading = false;

  const refresh = () => {
    if (reading) return;
    reading = true;
    // Events admitted before the read began are in its figure (they were enqueued, or failed
    // to be); those admitted while it runs may not be, so they stay counted.
    const admittedBefore = admittedSinceRead;
    const settle = (value: number | undefined) => {
      if (value !== undefined) {
        depth = value;
        admittedSinceRead -= admittedBefore;
      }
      readAt = now();
      reading = false;
    };
    options.readDepth().then(settle, () => settle(undefined));
  };

  return {
    admit: () => {
      if (now() - readAt > maxAgeMs) refresh();
      const estimate = depth + admittedSinceRead;
      if (estimate >= options.maxDepth) return { ok: false, depth: estimate };
      admittedSinceRead += 1;
      return { ok: true };
    },
  };
};
