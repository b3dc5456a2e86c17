import { serve } from "@hono/node-server";
import { Hono } from "hono";

/**
 * The ingest ceiling: the same framework and server, reading the same body and answering 202,
 * with no verification and no queue. Whatever seam-projector does beyond this costs throughput.
 */
const app = new Hono().post("/webhooks/seam", async (c) => {
  await c.req.text();
  return c.json({ ok: true }, 202);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" }, () => {
  process.stdout.write("listening\n");
});
