import type { Readiness } from "../shared/readiness.js";
import type { Waiter, WaiterRegistry } from "./registry.js";

export type WaitDeps = {
  registry: WaiterRegistry;
  readOne: (identityId: string) => Promise<Readiness>;
};

/**
 * A wait is over once the deletion is gone (cancelled) or ready; with an execution (CONTRACT
 * §8), once the execution has ended, completed or failed.
 */
const settled = ({ deletion }: Readiness) => {
  if (deletion === null) return true;
  if (deletion.execution !== null) return deletion.execution.status !== "running";
  return deletion.status === "ready";
};

/** `waiter` is absent when the answer needs no wait (see openWait). */
type OpenWait = { waiter?: Waiter | undefined; current: Readiness };

/**
 * Registers a waiter, then reads the state: in that order, no change can fall between the two.
 * Resolves undefined (and releases the waiter) when no deletion was requested; throws
 * `service_unavailable` when the process or the owner holds as many waiters as it may and the
 * answer would have to wait. What needs no wait is answered at any count: with `wait` false
 * (a long-poll without `wait`), nothing is registered; at a cap, a deletion that is settled,
 * or none at all (a 404), is answered from one read.
 */
export const openWait = async (
  deps: WaitDeps,
  identityId: string,
  /** Whose share of MAX_WAITERS the wait takes: the token it came with. */
  owner?: string,
  wait = true,
): Promise<OpenWait | undefined> => {
  if (wait && deps.registry.capFor(owner) !== undefined) {
    const current = await deps.readOne(identityId);
    if (current.deletion === null) return undefined;
    if (settled(current)) return { current };
  }
  // Still at a cap (or again): refused, and counted, here.
  const waiter = wait ? deps.registry.register(identityId, owner) : undefined;
  try {
    const current = await deps.readOne(identityId);
    if (current.deletion !== null) return { waiter, current };
  } catch (error) {
    waiter?.release();
    throw error;
  }
  waiter?.release();
  return undefined;
};

/**
 * Follows an open wait until it settles, `signal` aborts, `timeoutMs` passes or the registry
 * closes; `onChange` gets every state that differs from the one before. Returns the last state
 * known, which is current: every change to it is notified.
 */
export const followWait = async (
  { waiter, current: first }: OpenWait,
  options: {
    signal: AbortSignal;
    timeoutMs: number;
    onChange?: (readiness: Readiness) => Promise<void>;
    /** Called after `idleMs` without a change (an SSE keep-alive). */
    onIdle?: () => Promise<void>;
    idleMs?: number;
  },
): Promise<Readiness> => {
  if (waiter === undefined) return first;
  const clock = waiter.clock;
  const deadline = clock.now() + options.timeoutMs;
  let current = first;
  // Only a follower told of changes (SSE) compares states: a long-poll answers with the last
  // one, and its text, about 400 bytes, would be held for each of thousands of long-polls.
  let shown = options.onChange === undefined ? undefined : JSON.stringify(first);
  const take = async (update: Readiness | undefined) => {
    if (update === undefined) return;
    current = update;
    if (options.onChange === undefined) return;
    const text = JSON.stringify(update);
    if (text === shown) return;
    shown = text;
    await options.onChange(update);
  };
  while (!settled(current) && !waiter.ended && !options.signal.aborted) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) break;
    const idleMs = options.idleMs ?? Number.POSITIVE_INFINITY;
    const update = await waiter.next(options.signal, Math.min(remaining, idleMs));
    await take(update);
    // Nothing was delivered in `idleMs`: the wait is idle.
    if (
      update === undefined &&
      clock.now() < deadline &&
      !waiter.ended &&
      !options.signal.aborted
    ) {
      await options.onIdle?.();
    }
  }
  // At close the registry delivers the current state and ends the waiter in one go.
  await take(await waiter.next(options.signal, 0));
  return current;
};
