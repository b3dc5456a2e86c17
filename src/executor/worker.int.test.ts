import { describe, expect, it } from "vitest";
import { freePort } from "../../test/helpers/process.js";
import { testPrefix } from "../../test/helpers/redis.js";
import { waitFor } from "../../test/helpers/wait-for.js";
import { createLogger } from "../log.js";
import { createWorkerRedis } from "../redis.js";
import type { CallRunner } from "./run-call.js";
import { createCallWorker } from "./worker.js";

/** As the projector's worker (projector/worker.int.test.ts): BullMQ emits `error` once a second. */
describe("Seam-call worker, Redis unreachable", () => {
  it("writes the worker error line once, not once per reconnect attempt", async () => {
    const connection = createWorkerRedis(`redis://127.0.0.1:${await freePort()}`);
    let attempts = 0;
    connection.on("error", () => {
      attempts += 1;
    });
    const lines: { msg: string }[] = [];
    const runner: CallRunner = {
      run: () => {
        throw new Error("no call can be taken without Redis");
      },
    } as unknown as CallRunner;
    const worker = createCallWorker({
      connection,
      prefix: testPrefix(),
      concurrency: 1,
      runner,
      log: createLogger(
        "error",
        {},
        { write: (line: string) => void lines.push(JSON.parse(line)) },
      ),
    });
    worker.start();
    try {
      await waitFor(() => attempts >= 4, { message: "four failed connection attempts" });
      expect(lines.filter((line) => line.msg === "Seam call worker error")).toHaveLength(1);
    } finally {
      connection.disconnect();
      await worker.close();
    }
  });
});
