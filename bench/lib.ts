import { createHmac, randomUUID } from "node:crypto";
import autocannon from "autocannon";
import { Webhook } from "svix";

export type Figure = {
  value: number;
  unit: string;
  ceiling?: number;
  ratio?: number;
  goal?: string;
  met?: boolean;
};

export const BENCH_SECRET = "whsec_YmVuY2gtc2VjcmV0LWZvci1zZWFtLXByb2plY3Rvcg==";

/**
 * Pre-signs deliveries so the load generator spends its core sending, not hashing. Uses
 * node:crypto's HMAC, checked once against svix's own `sign` so the two cannot drift.
 */
export const presign = (bodies: string[], secret = BENCH_SECRET) => {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const timestamp = Math.floor(Date.now() / 1000);
  const signed = bodies.map((body) => {
    const id = `msg_${randomUUID()}`;
    const signature = createHmac("sha256", key)
      .update(`${id}.${timestamp}.${body}`)
      .digest("base64");
    return {
      body,
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": String(timestamp),
        "svix-signature": `v1,${signature}`,
      },
    };
  });
  const sample = signed[0];
  if (sample) {
    const expected = new Webhook(secret).sign(
      sample.headers["svix-id"],
      new Date(timestamp * 1000),
      sample.body,
    );
    if (expected !== sample.headers["svix-signature"])
      throw new Error("presign disagrees with svix");
  }
  return signed;
};

export type LoadResult = {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
};

/** Sends the pre-signed deliveries in turn at `connections` concurrent connections. */
export const load = async (
  url: string,
  deliveries: { body: string; headers: Record<string, string> }[],
  options: { connections: number; durationSeconds: number },
): Promise<LoadResult> => {
  let next = 0;
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.durationSeconds,
    requests: [
      {
        method: "POST",
        setupRequest: (request) => {
          const delivery = deliveries[next % deliveries.length];
          next += 1;
          return { ...request, body: delivery?.body, headers: delivery?.headers };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
};

export const ratio = (value: number, ceiling: number) =>
  Math.round((value / ceiling) * 1000) / 1000;

export const percentile = (sorted: number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
};
