import {
  type CallState,
  type CallTarget,
  type ExecutionStatus,
  type ExecutionStep,
  type ExecutionStrategy,
  executionSteps,
  type ResourceType,
  strategySteps,
} from "../shared/resources.js";

/**
 * The pure core of an execution (CONTRACT §8): given what Postgres holds for one running
 * execution, which calls are complete, which step comes next, and which calls it makes.
 * advance.ts reads the snapshot and writes the plan in the transaction that changed the
 * state (a projected deletion, a Seam answer, a start); nothing here does I/O.
 */

export type CallRow = { type: CallTarget; id: string; step: ExecutionStep; state: CallState };

/** `C`: the caller's call rows, which the plan hands back with their other fields (plan.calls). */
export type ExecutionSnapshot<C extends CallRow = CallRow> = {
  identityId: string;
  strategy: ExecutionStrategy;
  /** Null when just started: the plan chooses the first step. */
  step: ExecutionStep | null;
  calls: C[];
  /** The resources linked to the identity whose deletion has not been projected. */
  live: { type: ResourceType; id: string }[];
};

export type Plan<C extends CallRow = CallRow> = {
  step: ExecutionStep | null;
  status: Extract<ExecutionStatus, "running" | "completed">;
  /** Calls whose resource was reported deleted before they were complete. */
  done: { type: CallTarget; id: string }[];
  /** New calls: `pending` ones are to be made, `awaiting` ones wait for Seam's cascade. */
  insert: (CallRow & { state: "pending" | "awaiting" })[];
  /**
   * The snapshot's calls (copies) as the plan leaves them: those in `done` are marked done.
   * With `insert`, every call the execution has.
   */
  calls: C[];
};

/** The resource type each stepwise step deletes; the identity's own step has none. */
const STEP_TYPE: Record<Exclude<ExecutionStep, "user_identity">, ResourceType> = {
  client_sessions: "client_session",
  acs_credentials: "acs_credential",
  acs_users: "acs_user",
  enrollment_automations: "enrollment_automation",
  phones: "phone",
};

/**
 * Resource types whose step completes on their deletion event. A client session's step
 * completes once its delete has answered (its event is projected as usual, not awaited).
 */
export const AWAITED: ReadonlySet<CallTarget> = new Set<CallTarget>([
  "acs_credential",
  "acs_user",
  "enrollment_automation",
  "phone",
]);

const keyOf = (type: string, id: string) => `${type}/${id}`;

/**
 * The calls of a step: the live resources of its type, and those of the steps before it, for
 * one linked once its own step had passed (a PUT while the execution runs) is deleted in the
 * step in hand, before the identity is (add() leaves out what has a call already).
 */
const callsFor = (snapshot: ExecutionSnapshot, step: ExecutionStep): Plan["insert"] => {
  if (step === "user_identity") {
    return [{ type: "user_identity", id: snapshot.identityId, step, state: "pending" }];
  }
  const types = new Set(
    executionSteps
      .slice(0, executionSteps.indexOf(step) + 1)
      .map((s) => STEP_TYPE[s as Exclude<ExecutionStep, "user_identity">]),
  );
  return snapshot.live
    .filter((resource) => types.has(resource.type))
    .map((resource) => ({ ...resource, step, state: "pending" }));
};

export const plan = <C extends CallRow>(snapshot: ExecutionSnapshot<C>): Plan<C> => {
  const live = new Set(snapshot.live.map((r) => keyOf(r.type, r.id)));
  const existing = snapshot.calls.map((call) => ({ ...call }));
  const calls = new Map<string, CallRow>(existing.map((call) => [keyOf(call.type, call.id), call]));
  const done: Plan["done"] = [];
  // A call not complete whose resource is no longer live: its deletion was projected (whoever
  // caused it), so there is nothing left to call or to wait for.
  for (const call of calls.values()) {
    if (
      call.state !== "done" &&
      call.type !== "user_identity" &&
      !live.has(keyOf(call.type, call.id))
    ) {
      call.state = "done";
      done.push({ type: call.type, id: call.id });
    }
  }
  const insert: Plan["insert"] = [];
  const add = (rows: Plan["insert"]) => {
    for (const row of rows) {
      if (calls.has(keyOf(row.type, row.id))) continue;
      calls.set(keyOf(row.type, row.id), row);
      insert.push(row);
    }
  };
  const order = strategySteps[snapshot.strategy];
  let step = snapshot.step ?? (order[0] as ExecutionStep);
  for (;;) {
    const current = step;
    // Every live resource of the step in hand is called, those linked after the step started
    // too: the step is complete only once each is deleted.
    add(callsFor(snapshot, current));
    const open = [...calls.values()].some((call) => call.step === current && call.state !== "done");
    if (open) return { step, status: "running", done, insert, calls: existing };
    if (step === "user_identity") {
      if (snapshot.strategy === "cascade") {
        // The identity is deleted in Seam; what was linked to it is now awaited, as Seam's
        // cascade deletes it. A resource linked after that is awaited too.
        const awaited = snapshot.live
          .filter((r) => !calls.has(keyOf(r.type, r.id)))
          .map((r) => ({ ...r, step: "user_identity" as const, state: "awaiting" as const }));
        if (awaited.length > 0) {
          add(awaited);
          return { step, status: "running", done, insert, calls: existing };
        }
      }
      return { step: null, status: "completed", done, insert, calls: existing };
    }
    step = order[order.indexOf(step) + 1] as ExecutionStep;
  }
};
