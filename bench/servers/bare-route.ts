import { type HttpBindings, serve } from "@hono/node-server";
import { Hono } from "hono";
import { readBody } from "./kit.js";

/**
 * The ingest ceiling: the least the webhook route must do, the fastest way. The same framework
 * and adapter as seam-projector, the same body read from the Node request as the service reads
 * it (src/ingest/raw-body.ts), and a 202 with a JSON body; no verification, no queue.
 */
const app = new Hono<{ Bindings: HttpBindings }>().post("/webhooks/seam", async (c) => {
  await readBody(c.env.incoming);
  return c.json({ ok: true }, 202);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" }, () => {
  process.stdout.write("listening\n");
});
process.on("SIGTERM", () => process.exit(0));
