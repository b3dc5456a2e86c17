import { signBytes } from "../../src/ingest/verify.js";
import { type SignedHeaders, signBody } from "../../src/replay/sign.js";

/**
 * svix's headers for a body given as bytes, signed over exactly those bytes (invalid UTF-8, a
 * BOM): svix's `sign` takes a string, so the signature is the service's own Standard Webhooks
 * HMAC, which src/ingest/verify.unit.test.ts holds to svix's on the spec's vectors and on
 * random inputs.
 */
export const signRawBody = (secret: string, bytes: Buffer): SignedHeaders => {
  const headers = signBody(secret, "");
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const signature = signBytes(key, headers["svix-id"], headers["svix-timestamp"], bytes);
  return { ...headers, "svix-signature": `v1,${signature}` };
};
