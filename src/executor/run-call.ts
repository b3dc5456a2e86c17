import { type Db, pipeline, type Tx } from "../db/client.js";
import { type AdvanceOptions, advanceExecutions, type FollowUp } from "../execution/advance.js";
import { AWAITED } from "../execution/plan.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { SeamCallOutcome, SeamCalls } from "../seam/calls.js";
import type { ResourceType } from "../shared/resources.js";
import {
  type CallForJob,
  type CallUpdate,
  selectCallForJob,
  updateExecutionCall,
} from "../sql/execution-calls.js";
import { failExecution } from "../sql/fail-execution.js";
import { lockIdentities } from "../sql/lock-identities.js";
import type { FollowUpHandler } from "./follow-up.js";
import type { CallJob } from "./queue.js";
import { createReconcile } from "./reconcile.js";

/** CONTRACT §8: a resource a third `get` still finds fails the execution. */
const MAX_CHECKS = 3;
/** CONTRACT §8: a call Seam keeps answering 429 or 5xx is retried this long, then fails. */
const RETRY_WINDOW_MS = 10 * 60 * 1000;

export type RunCallDeps = {
  db: Db;
  calls: SeamCalls;
  advance: AdvanceOptions;
  followUp: FollowUpHandler;
  metrics: Pick<Metrics, "seamCalls" | "executions">;
  log: Logger;
  now?: () => number;
};

/**
 * What became of a job. `retry`: Seam answered 429 or 5xx, and the job is to run again after
 * `delayMs` (the worker moves it to the delayed set).
 */
export type CallResult =
  | { kind: "stale" | "skipped" | "answered" | "failed" | "reconciled" }
  | { kind: "retry"; delayMs: number };

const keyOf = (job: CallJob) => ({
  identityId: job.identityId,
  executionId: job.executionId,
  type: job.type,
  id: job.id,
});

/**
 * Reads the job's call under the identity's lock; undefined when the job has nothing to do.
 * The lock and the select are sent together, the lock first: Postgres runs them in order on
 * the connection, so the select runs holding the lock, one round trip instead of two.
 */
const lockCall = async (tx: Tx, job: CallJob): Promise<CallForJob | undefined> => {
  const [, [call]] = await pipeline<[unknown, CallForJob[]]>([
    lockIdentities(tx, [job.identityId]),
    selectCallForJob(tx, keyOf(job)),
  ]);
  if (call === undefined || call.round !== job.round) return undefined;
  return call;
};

/** A call's update with nothing counted and no answer, unless `fields` says otherwise. */
const callUpdate = (
  job: CallJob,
  fields: Pick<CallUpdate, "state" | "round"> & Partial<CallUpdate>,
): CallUpdate => ({
  ...keyOf(job),
  answer: null,
  addDeleteCalls: 0,
  addGetCalls: 0,
  deadlineAt: null,
  ...fields,
});

/** Backoff for retry `n` (1-based): 1 s doubling to 60 s, never sooner than Retry-After. */
const backoffMs = (retries: number, retryAfterMs: number | undefined) =>
  Math.max(Math.min(1000 * 2 ** (retries - 1), 60_000), retryAfterMs ?? 0);

const describe = (outcome: SeamCallOutcome) =>
  outcome.kind === "ok" ? "200" : outcome.kind === "not_found" ? "404" : outcome.kind;

/**
 * Runs one job of the Seam-call queue (CONTRACT §8). Each job is a short transaction to claim
 * the call (and record it as sent), the Seam call outside any transaction, then a transaction
 * to record the answer and advance the execution. A job killed mid-way is run again by BullMQ:
 * a delete recorded as sent but not answered is sent once more, which Seam takes as done.
 */
export const createCallRunner = (deps: RunCallDeps) => {
  const now = deps.now ?? Date.now;
  const reconcile = createReconcile({ ...deps, now });

  /** Records the answer and advances, in one transaction; then queues what is left. */
  const record = async (job: CallJob, change: (call: CallForJob) => CallUpdate) => {
    const followUps = await deps.db.begin(async (tx) => {
      const call = await lockCall(tx, job);
      if (call === undefined) return [] as FollowUp[];
      await updateExecutionCall(tx, change(call));
      return advanceExecutions(tx, [job.identityId], deps.advance);
    });
    await deps.followUp(followUps);
  };

  /**
   * Fails the execution, holding the call's lock (lockCall); false when there is nothing to
   * fail: the execution is not running under the job's id, or the call is done because its
   * resource's deletion was projected while the call was out (what failed no longer matters).
   */
  const failLocked = async (
    tx: Tx,
    job: CallJob,
    call: CallForJob | undefined,
    error: { code: string; message: string },
    fields: Partial<CallUpdate> = {},
  ) => {
    if (call === undefined || call.state === "done") return false;
    // Back to pending: a resumed execution makes this call again.
    await updateExecutionCall(
      tx,
      callUpdate(job, { ...fields, state: "pending", round: call.round }),
    );
    return (await failExecution(tx, job.identityId, job.executionId, error)).length > 0;
  };

  /** After a failLocked that committed: counted and logged (warn) when it failed the execution. */
  const counted = (
    failed: boolean,
    job: CallJob,
    error: { code: string; message: string },
  ): CallResult => {
    if (failed) {
      deps.metrics.executions.inc({ status: "failed" });
      deps.log.warn(
        { userIdentityId: job.identityId, type: job.type, id: job.id, ...error },
        "execution failed",
      );
    }
    return { kind: failed ? "failed" : "stale" };
  };

  const fail = async (job: CallJob, code: string, message: string): Promise<CallResult> =>
    counted(
      await deps.db.begin(async (tx) =>
        failLocked(tx, job, await lockCall(tx, job), { code, message }),
      ),
      job,
      { code, message },
    );

  /** Seam failed: retry within the window (honouring Retry-After), or fail the execution. */
  const onFailure = async (
    job: CallJob,
    outcome: Exclude<SeamCallOutcome, { kind: "ok" | "not_found" }>,
    firstTriedAt: number,
  ): Promise<CallResult> => {
    if (outcome.kind === "unauthorized") return fail(job, "seam_api_unauthorized", outcome.message);
    if (outcome.kind === "rejected") return fail(job, "seam_api_rejected", outcome.message);
    if (now() - firstTriedAt >= RETRY_WINDOW_MS) {
      return fail(job, "seam_api_unavailable", outcome.message);
    }
    return { kind: "retry", delayMs: backoffMs((job.retries ?? 0) + 1, outcome.retryAfterMs) };
  };

  /**
   * For a job with nothing (left) to do: a run of it before may have recorded Seam's answer and
   * then failed to queue what followed (Redis gone), and BullMQ runs it again. So what the
   * execution has left is queued again (a job already queued is not queued twice), as a
   * repeated event does in the projector (projector/apply.ts); nothing when it is not running.
   */
  const requeue = (tx: Tx, job: CallJob) => advanceExecutions(tx, [job.identityId], deps.advance);

  const runDelete = async (job: CallJob, firstTriedAt: number): Promise<CallResult> => {
    const claim = await deps.db.begin(async (tx) => {
      const call = await lockCall(tx, job);
      if (call === undefined || call.state === "awaiting" || call.state === "done") {
        return { kind: "stale" as const, followUps: await requeue(tx, job) };
      }
      if (job.type !== "user_identity" && call.resource_state === "deleted") {
        // Reported deleted before we called (Seam's cascade, another app): nothing to call.
        return { kind: "skipped" as const, followUps: await requeue(tx, job) };
      }
      await updateExecutionCall(
        tx,
        callUpdate(job, {
          state: "calling",
          round: call.round,
          addDeleteCalls: 1,
        }),
      );
      return { kind: "call" as const, workspaceId: call.workspace_id };
    });
    if (claim.kind !== "call") {
      await deps.followUp(claim.followUps);
      return { kind: claim.kind };
    }
    const outcome = await deps.calls.delete(job.type, job.id);
    deps.metrics.seamCalls.inc({
      route: deps.calls.route("delete", job.type),
      outcome: outcome.kind,
    });
    if (outcome.kind === "ok" || (outcome.kind === "not_found" && job.type === "user_identity")) {
      const awaited = AWAITED.has(job.type) && outcome.kind === "ok";
      await record(job, (call) =>
        callUpdate(job, {
          // The deletion event may have been projected while the call was out: done stays done.
          state: call.state === "done" ? "done" : awaited ? "awaiting" : "done",
          round: call.round,
          answer: describe(outcome),
          deadlineAt: awaited ? new Date(now() + deps.advance.eventTimeoutMs).toISOString() : null,
        }),
      );
      return { kind: "answered" };
    }
    if (outcome.kind === "not_found") {
      // Already gone (CONTRACT §8): done, and recorded as deleted so readiness agrees.
      await reconcile(job as CallJob & { type: ResourceType }, claim.workspaceId);
      return { kind: "reconciled" };
    }
    return onFailure(job, outcome, firstTriedAt);
  };

  /** The timeout fallback: the awaited event is overdue, so Seam is asked once. */
  const runCheck = async (job: CallJob, firstTriedAt: number): Promise<CallResult> => {
    // Nothing is written before the get: it is counted once Seam answers that the resource is
    // there (onStillThere), so a get Seam did not answer (429, 5xx, a crash) is no check.
    const claim = await deps.db.begin(async (tx) => {
      const call = await lockCall(tx, job);
      if (call === undefined || call.state !== "awaiting" || call.resource_state === "deleted") {
        return { followUps: await requeue(tx, job) };
      }
      return { call };
    });
    if (claim.call === undefined || job.type === "user_identity") {
      await deps.followUp(claim.followUps ?? []);
      return { kind: "stale" };
    }
    const outcome = await deps.calls.get(job.type, job.id);
    deps.metrics.seamCalls.inc({ route: deps.calls.route("get", job.type), outcome: outcome.kind });
    if (outcome.kind === "not_found") {
      await reconcile(job as CallJob & { type: ResourceType }, claim.call.workspace_id);
      return { kind: "reconciled" };
    }
    if (outcome.kind !== "ok") return onFailure(job, outcome, firstTriedAt);
    return onStillThere(job);
  };

  /**
   * A get found the resource. Decided under the call's lock, as its deletion event may have
   * been projected while the get was out (the call is done then: nothing to fail or delete
   * again). After the third get that finds it, the execution fails; else it is deleted again.
   */
  const onStillThere = async (job: CallJob): Promise<CallResult> => {
    const notDeleted = {
      code: "seam_resource_not_deleted",
      message: `${job.type} ${job.id} is still in Seam after ${MAX_CHECKS} checks, each ${deps.advance.eventTimeoutMs} ms after its delete`,
    };
    const outcome = await deps.db.begin(async (tx) => {
      const call = await lockCall(tx, job);
      const found = { answer: "200", addGetCalls: 1 };
      if (call !== undefined && call.state === "awaiting" && call.get_calls + 1 < MAX_CHECKS) {
        await updateExecutionCall(
          tx,
          callUpdate(job, { ...found, state: "pending", round: call.round + 1 }),
        );
        return advanceExecutions(tx, [job.identityId], deps.advance);
      }
      return failLocked(tx, job, call?.state === "awaiting" ? call : undefined, notDeleted, found);
    });
    if (typeof outcome === "boolean") return counted(outcome, job, notDeleted);
    await deps.followUp(outcome);
    return { kind: "answered" };
  };

  return {
    /** `firstTriedAt`: when the job was first run (its retry window starts there). */
    run: (job: CallJob, firstTriedAt: number) =>
      job.action === "delete" ? runDelete(job, firstTriedAt) : runCheck(job, firstTriedAt),
  };
};

export type CallRunner = ReturnType<typeof createCallRunner>;
