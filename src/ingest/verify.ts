import { createHmac, timingSafeEqual } from "node:crypto";

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

/** The HMAC key of a Standard Webhooks secret: the base64 after `whsec_` (as svix reads it). */
const keyOf = (secret: string): Buffer =>
  Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");

/**
 * `base64(HMAC-SHA256(key, "<id>.<timestamp>." + body))`, the Standard Webhooks `v1` signature,
 * over the body's bytes exactly as received. svix's `Webhook.sign` takes a string, which would
 * mean decoding first: invalid UTF-8 would then be signed over its replacement characters and a
 * leading BOM dropped, so the bytes verified would not be the bytes sent (docs/api.md).
 * verify.unit.test.ts holds this to svix's answer on the spec's vectors and on random inputs.
 */
export const signBytes = (key: Buffer, id: string, timestamp: string, body: Buffer): string =>
  createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");

/**
 * Verifies a Svix (Standard Webhooks) signature over the exact raw body, against every
 * configured secret so a secret can be rotated without a gap.
 *
 * Not svix's `Webhook.verify`: it reads the wall clock (the clock here is injected, so
 * tolerance is testable without sleeping) and takes decoded text. Everything else follows the
 * Standard Webhooks spec: `v1,<base64>` entries separated by spaces, other versions ignored,
 * constant-time comparison. A string body is its UTF-8 bytes (the tests, the replay CLI).
 */
export const createVerifier = (secrets: string[], now: () => Date) => {
  const keys = secrets.map(keyOf);
  return (body: Buffer | string, header: HeaderReader): VerifyResult => {
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
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    // The timestamp as svix signs it: the integer seconds, without leading zeros.
    const signedTimestamp = String(timestamp);
    for (const key of keys) {
      const expected = signBytes(key, id, signedTimestamp, bytes);
      if (offered.some((candidate) => equalInConstantTime(candidate, expected)))
        return { ok: true };
    }
    return { ok: false, reason: "no signature matches a configured secret" };
  };
};

export type Verifier = ReturnType<typeof createVerifier>;
