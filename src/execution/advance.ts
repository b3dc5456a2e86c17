import { pipeline, type Tx } from "../db/client.js";
import type { CallTarget, ExecutionStep, ExecutionStrategy } from "../shared/resources.js";
import {
  type ExecutionCallRow,
  type RunningExecutionRow,
  selectRunningExecutions,
} from "../sql/select-executions.js";
import {
  completeExecutionCalls,
  type ExecutionUpdate,
  insertExecutionCalls,
  type NewCall,
  updateExecutions,
} from "../sql/write-execution-plans.js";
import { type Plan, plan } from "./plan.js";

export type AdvanceOptions = {
  /** EXECUTION_EVENT_TIMEOUT_MS: how long an awaited deletion event is waited for. */
  eventTimeoutMs: number;
  now?: () => number;
};

/**
 * What a feature that advances executions is given (with SEAM_API_KEY): the options, and what
 * to do with the follow-ups once its transaction has committed (executor/follow-up.ts queues
 * them); a rejection means they were not queued.
 */
export type ExecutionHooks = {
  advance: AdvanceOptions;
  onFollowUps: (followUps: FollowUp[]) => Promise<void>;
};

/** A call to hand to the Seam-call queue (docs/architecture.md): a delete, or a timeout check. */
type CallJobKey = { type: CallTarget; id: string; round: number };

/**
 * What a committed advance leaves to do outside Postgres: the calls to make, the timeout
 * checks to schedule, and, for logs and metrics, how the execution moved.
 */
export type FollowUp = {
  identityId: string;
  executionId: string;
  strategy: ExecutionStrategy;
  step: ExecutionStep | null;
  status: "running" | "completed";
  /** The step before this advance, and when it had started (ISO 8601), when the step moved. */
  left: { step: ExecutionStep | null; startedAt: string | null } | undefined;
  calls: CallJobKey[];
  checks: (CallJobKey & { deadlineAt: string })[];
};

/**
 * Brings the running executions of these identities up to date with what Postgres now holds
 * (execution/plan.ts), in the caller's transaction: the one that projected a deletion, recorded
 * a Seam answer, or started the execution, so that a step moves in the same commit as what
 * completed it. Run it holding lockIdentities. Returns what is to be done once it commits:
 * every call still to make is returned each time, and the queue drops a call already queued
 * (its job id is the call's), so running it again after a crash loses nothing and repeats
 * nothing.
 */
export const advanceExecutions = async (
  tx: Tx,
  identityIds: string[],
  options: AdvanceOptions,
): Promise<FollowUp[]> => {
  if (identityIds.length === 0) return [];
  const rows = await selectRunningExecutions(tx, identityIds);
  if (rows.length === 0) return [];
  const now = options.now?.() ?? Date.now();
  const deadline = new Date(now + options.eventTimeoutMs).toISOString();
  const updates: ExecutionUpdate[] = [];
  const inserts: NewCall[] = [];
  const completed: Parameters<typeof completeExecutionCalls>[1] = [];
  const followUps = rows.map((row) => {
    const next = plan({
      identityId: row.user_identity_id,
      strategy: row.strategy,
      step: row.step,
      calls: row.calls,
      live: row.live,
    });
    // A plan ends with step null only when it completes, so a row just started (step null)
    // always counts as changed: its first step is written here.
    const stepChanged = next.step !== row.step || next.status !== "running";
    if (stepChanged) {
      updates.push({ identityId: row.user_identity_id, step: next.step, status: next.status });
    }
    for (const call of next.insert) {
      inserts.push({
        identityId: row.user_identity_id,
        ...call,
        deadlineAt: call.state === "awaiting" ? deadline : null,
      });
    }
    for (const call of next.done) completed.push({ identityId: row.user_identity_id, ...call });
    return toFollowUp(row, next, deadline, stepChanged);
  });
  // Sent together: postgres.js pipelines what is issued before it is awaited.
  const writes: Promise<unknown>[] = [];
  if (completed.length > 0) writes.push(completeExecutionCalls(tx, completed).execute());
  if (inserts.length > 0) writes.push(insertExecutionCalls(tx, inserts).execute());
  if (updates.length > 0) writes.push(updateExecutions(tx, updates).execute());
  await pipeline(writes);
  return followUps;
};

const toFollowUp = (
  row: RunningExecutionRow,
  next: Plan<ExecutionCallRow>,
  deadline: string,
  stepChanged: boolean,
): FollowUp => {
  const calls: FollowUp["calls"] = [];
  const checks: FollowUp["checks"] = [];
  if (next.status === "running") {
    // The calls as the plan leaves them, then the new ones (round 0, deadline from now).
    for (const { type, id, state, round, deadline_at } of next.calls) {
      if (state === "pending" || state === "calling") calls.push({ type, id, round });
      if (state === "awaiting" && deadline_at !== null) {
        checks.push({ type, id, round, deadlineAt: deadline_at });
      }
    }
    for (const { type, id, state } of next.insert) {
      if (state === "pending") calls.push({ type, id, round: 0 });
      else checks.push({ type, id, round: 0, deadlineAt: deadline });
    }
  }
  return {
    identityId: row.user_identity_id,
    executionId: row.execution_id,
    strategy: row.strategy,
    step: next.step,
    status: next.status,
    left: stepChanged ? { step: row.step, startedAt: row.step_started_at } : undefined,
    calls,
    checks,
  };
};
