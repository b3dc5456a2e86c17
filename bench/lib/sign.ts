import { createHmac, randomUUID } from "node:crypto";
import { Webhook } from "svix";
import { buildLoneDeletionEvent } from "../../sim/events.js";

/** The bench's webhook secret and API token (not the published local defaults). */
export const BENCH_SECRET = "whsec_YmVuY2gtc2VjcmV0LWZvci1zZWFtLXByb2plY3Rvcg==";
export const BENCH_TOKEN = "bench-token-not-for-production";

export type Delivery = { body: string; headers: Record<string, string> };

/**
 * Signs deliveries ahead of sending, so the load generator spends its core sending, not
 * hashing. node:crypto's HMAC, checked once against svix's own `sign` so the two cannot drift.
 */
export const presign = (bodies: string[], secret = BENCH_SECRET): Delivery[] => {
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
      sample.headers["svix-id"] as string,
      new Date(timestamp * 1000),
      sample.body,
    );
    if (expected !== sample.headers["svix-signature"]) {
      throw new Error("presign disagrees with svix");
    }
  }
  return signed;
};

/** An `acs_credential.deleted` with fresh ids: the ingest section's unique webhooks. */
export const credentialDeleted = () =>
  JSON.stringify(buildLoneDeletionEvent("acs_credential", randomUUID()));
