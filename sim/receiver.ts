import { createServer } from "node:http";
import { Webhook } from "svix";
import { checkSeamEvent } from "../src/seam/events.js";

/**
 * A webhook target for the simulator's tests, on 127.0.0.1: it verifies each post's Svix
 * signature with svix's own `Webhook.verify` and checks the event against Seam's schema, and
 * answers what the test says (2xx by default, or a failure to make the simulator retry).
 */

export type ReceivedWebhook = {
  messageId: string;
  event: Record<string, unknown>;
  /** Empty when the signature verified and the event passed `checkSeamEvent`. */
  problems: string[];
};

export const startWebhookReceiver = async (
  secret: string,
  options: { answer?: (attempt: number) => number } = {},
) => {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  let attempts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      attempts += 1;
      const body = Buffer.concat(chunks).toString();
      const problems: string[] = [];
      let event: Record<string, unknown> = {};
      try {
        event = verifier.verify(body, req.headers as Record<string, string>) as typeof event;
      } catch (error) {
        problems.push(`signature: ${String(error)}`);
        event = JSON.parse(body) as typeof event;
      }
      const check = checkSeamEvent(event);
      if (!check.ok) problems.push(`schema: ${check.error}`);
      received.push({ messageId: String(req.headers["svix-id"]), event, problems });
      res.writeHead(options.answer?.(attempts) ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/webhooks/seam`,
    secret,
    received,
    /** The ids the received events name in `field` (e.g. `acs_credential_id`), in order. */
    idsOf: (field: string) =>
      received.map((item) => item.event[field]).filter((id) => typeof id === "string"),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
