import { describe, expect, it } from "vitest";
import { errorLinesWhileRedisIsDown, testPrefix } from "../../test/helpers/redis.js";
import type { CallRunner } from "./run-call.js";
import { createCallWorker } from "./worker.js";

/** As the projector's worker (projector/worker.int.test.ts): BullMQ emits `error` once a second. */
describe("Seam-call worker, Redis unreachable", () => {
  it("writes the worker error line once, not once per reconnect attempt", async () => {
    const runner = {
      run: () => Promise.reject(new Error("no call is taken without Redis")),
    } as unknown as CallRunner;
    const lines = await errorLinesWhileRedisIsDown(
      "Seam call worker error",
      ({ connection, log }) => {
        const worker = createCallWorker({
          connection,
          prefix: testPrefix(),
          concurrency: 1,
          runner,
          log,
        });
        worker.start();
        return worker;
      },
    );
    expect(lines).toBe(1);
  });
});
