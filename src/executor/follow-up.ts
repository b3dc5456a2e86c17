import type { FollowUp } from "../execution/advance.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import { type CallsQueue, jobsOf } from "./queue.js";

type FollowUpDeps = {
  queue: CallsQueue;
  log: Logger;
  metrics: Pick<Metrics, "executions" | "executionStepSeconds">;
  now?: () => number;
};

/**
 * What every advance of an execution does once its transaction has committed, wherever it ran
 * (a projected deletion, a Seam answer, a start): a log line and a step duration per step
 * change, and the jobs it leaves. Rejects when the jobs could not be queued; the caller then
 * fails what it was doing, so that it is done again and advances again.
 */
export const createFollowUp =
  ({ queue, log, metrics, now = Date.now }: FollowUpDeps) =>
  async (followUps: FollowUp[]) => {
    for (const followUp of followUps) {
      if (followUp.left === undefined) continue;
      const { step: left, startedAt } = followUp.left;
      if (left !== null && startedAt !== null) {
        metrics.executionStepSeconds.observe(
          { step: left },
          (now() - Date.parse(startedAt)) / 1000,
        );
      }
      if (left === null) metrics.executions.inc({ status: "started" });
      if (followUp.status === "completed") metrics.executions.inc({ status: "completed" });
      log.info(
        {
          userIdentityId: followUp.identityId,
          strategy: followUp.strategy,
          from: left,
          step: followUp.step,
          status: followUp.status,
          calls: followUp.calls.length,
        },
        followUp.status === "completed" ? "execution completed" : "execution step",
      );
    }
    const jobs = jobsOf(followUps, now());
    if (jobs.length > 0) await queue.addBulk(jobs);
  };

export type FollowUpHandler = ReturnType<typeof createFollowUp>;
