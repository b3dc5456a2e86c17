import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { EventsQueue } from "../ingest/queue.js";

export const BOARD_PATH = "/admin/queues";

/**
 * The Bull Board dashboard for the events queue: counts per state, jobs, their data and
 * failure reasons, retry and clean buttons. Mounted at BOARD_PATH behind the admin auth.
 */
export const boardRoutes = (queue: EventsQueue) => {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: adapter });
  return adapter.registerPlugin();
};
