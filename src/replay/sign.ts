import { randomUUID } from "node:crypto";
import { Webhook } from "svix";

export type SignedHeaders = {
  "svix-id": string;
  "svix-timestamp": string;
  "svix-signature": string;
};

/**
 * Signs a body the way Svix does for Seam (svix's own `Webhook.sign`), so a fixture can be
 * delivered to any seam-projector, or to any other Svix consumer.
 */
export const signBody = (
  secret: string,
  body: string,
  options: { messageId?: string; at?: Date } = {},
): SignedHeaders => {
  const messageId = options.messageId ?? `msg_${randomUUID().replaceAll("-", "")}`;
  const at = options.at ?? new Date();
  return {
    "svix-id": messageId,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": new Webhook(secret).sign(messageId, at, body),
  };
};
