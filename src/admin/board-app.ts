import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { AppError } from "../errors.js";
import type { EventsQueue } from "../ingest/queue.js";
import { BOARD_PATH } from "./board.js";

/** A second lock on the same door, should a later Bull Board add jobs by another route. */
class NoAddAdapter extends BullMQAdapter {
  override addJob(): never {
    throw new AppError("forbidden", "jobs enter the events queue as signed webhooks only");
  }
}

/** One Bull Board for the events queue, read-only or not, mounted at BOARD_PATH. */
export const boardApp = (queue: EventsQueue, readOnlyMode: boolean) => {
  const adapter = new HonoAdapter(serveStatic).setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [new NoAddAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode })],
    serverAdapter: adapter,
  });
  return new Hono().route(BOARD_PATH, adapter.registerPlugin());
};
