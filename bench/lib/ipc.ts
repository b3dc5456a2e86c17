import type { ChildProcess } from "node:child_process";
import { monotonicMs } from "../../sim/clock.js";
import { cpuMsOf } from "./cpu.js";

/**
 * Calls between the bench and the load-generating processes it forks, over Node's IPC channel.
 * Every answer carries the CPU the child used while it ran the call, as a share of one core,
 * so each figure can say whether its load generator, rather than the server, was the limit.
 */
type Call = { id: number; method: string; params: unknown };
type Answer = {
  id: number;
  result?: unknown;
  error?: string;
  cpuPercent: number;
  watchedCpuPercent?: Record<string, number>;
};

export type Measured<T> = {
  result: T;
  /** The load process's own share of one core over the measured part of the call. */
  cpuPercent: number;
  /** The same for each pid the call named in `watch` (the servers under load), by pid. */
  watchedCpuPercent: Record<string, number>;
};

/** The bench's side: `call(method, params)` resolves with the child's answer. */
export const rpcClient = (child: ChildProcess) => {
  let next = 0;
  const pending = new Map<number, (answer: Answer) => void>();
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.on("message", (message: Answer) => {
    if (message.id === 0) markReady();
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  child.once("exit", (code, signal) => {
    // A signal says who ended it (SIGKILL: the OOM killer or a stray kill), a code how it ended.
    const how = signal ?? `code ${code}`;
    for (const settle of pending.values())
      settle({ id: -1, error: `load process exited (${how})`, cpuPercent: 0 });
    pending.clear();
  });
  const call = <T>(method: string, params: unknown = {}): Promise<Measured<T>> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      pending.set(id, (answer) =>
        answer.error === undefined
          ? resolve({
              result: answer.result as T,
              cpuPercent: answer.cpuPercent,
              watchedCpuPercent: answer.watchedCpuPercent ?? {},
            })
          : reject(new Error(answer.error)),
      );
      child.send({ id, method, params } satisfies Call);
    });
  return { ready, call };
};

/**
 * The child's side: runs each call's handler and answers with its result and the CPU the whole
 * process (every thread) used meanwhile. A handler may say which part of its work counts
 * (`measure`), so that set-up such as signing 300,000 requests is left out.
 */
export const serveRpc = (
  handlers: Record<
    string,
    (params: never, measure: { start: () => void; end: () => void }) => Promise<unknown>
  >,
) => {
  process.on("message", async ({ id, method, params }: Call) => {
    const watch = ((params as { watch?: number[] } | null)?.watch ?? []).filter(Number.isInteger);
    const sampleWatched = () => watch.map((pid) => cpuMsOf(pid) ?? Number.NaN);
    let cpu = process.cpuUsage();
    let watchedBefore = sampleWatched();
    let since = monotonicMs();
    let cpuPercent = Number.NaN;
    const watchedCpuPercent: Record<string, number> = {};
    const measure = {
      start: () => {
        cpu = process.cpuUsage();
        watchedBefore = sampleWatched();
        since = monotonicMs();
      },
      end: () => {
        const elapsed = monotonicMs() - since;
        const used = process.cpuUsage(cpu);
        cpuPercent = Math.round((used.user + used.system) / 10 / elapsed);
        sampleWatched().forEach((ms, i) => {
          watchedCpuPercent[String(watch[i])] = Math.round(
            (100 * (ms - (watchedBefore[i] ?? Number.NaN))) / elapsed,
          );
        });
      },
    };
    try {
      const handler = handlers[method];
      if (handler === undefined) throw new Error(`no method ${method}`);
      const result = await handler(params as never, measure);
      if (Number.isNaN(cpuPercent)) measure.end();
      process.send?.({ id, result, cpuPercent, watchedCpuPercent } satisfies Answer);
    } catch (error) {
      process.send?.({
        id,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        cpuPercent: 0,
      } satisfies Answer);
    }
  });
  process.send?.({ id: 0, cpuPercent: 0 });
};
