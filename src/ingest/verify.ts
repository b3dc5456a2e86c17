import { timingSafeEqual } from "node:crypto";
import { Webhook } from "svix";

/** Svix rejects a timestamp further than this from now, either way (Standard Webhooks). */
const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export type VerifyResult = { ok: true } | { ok: false; reason: string };

type HeaderReader = (name: string) => string | undefined;

const firstHeader = (read: HeaderReader, names: string[]): string | undefined => {
  for (const name of names) {
    const value = read(name);
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
};

const equalInConstantTime = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * Verifies a Svix (Standard Webhooks) signature over the exact raw body, against every
 * configured secret so a secret can be rotated without a gap.
 *
 * The HMAC is svix's own `Webhook.sign`. We do not call `Webhook.verify` because it reads the
 * wall clock, and the clock here is injected so tolerance is testable without sleeping; we also
 * parse the headers once for all secrets. Everything else follows the Standard Webhooks spec:
 * `v1,<base64>` entries separated by spaces, other versions ignored, constant-time comparison.
 */
export const createVerifier = (secrets: string[], now: () => Date) => {
  const webhooks = secrets.map((secret) => new Webhook(secret));
  return (body: string, header: HeaderReader): VerifyResult => {
    const id = firstHeader(header, ["svix-id", "webhook-id"]);
    const timestampRaw = firstHeader(header, ["svix-timestamp", "webhook-timestamp"]);
    const signatureHeader = firstHeader(header, ["svix-signature", "webhook-signature"]);
    if (id === undefined || timestampRaw === undefined || signatureHeader === undefined) {
      return { ok: false, reason: "missing svix-id, svix-timestamp or svix-signature header" };
    }
    if (!/^\d{1,12}$/.test(timestampRaw)) return { ok: false, reason: "malformed timestamp" };
    const timestamp = Number(timestampRaw);
    const nowSeconds = Math.floor(now().getTime() / 1000);
    if (Math.abs(nowSeconds - timestamp) > TIMESTAMP_TOLERANCE_SECONDS) {
      return { ok: false, reason: "timestamp outside the 5 minute tolerance" };
    }
    const offered = signatureHeader
      .split(" ")
      .filter((entry) => entry.startsWith("v1,"))
      .map((entry) => entry.slice(3));
    if (offered.length === 0) return { ok: false, reason: "no v1 signature" };
    const signedAt = new Date(timestamp * 1000);
    for (const webhook of webhooks) {
      const expected = webhook.sign(id, signedAt, body).slice(3);
      if (offered.some((candidate) => equalInConstantTime(candidate, expected)))
        return { ok: true };
    }
    return { ok: false, reason: "no signature matches a configured secret" };
  };
};

export type Verifier = ReturnType<typeof createVerifier>;
