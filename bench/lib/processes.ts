import { type ChildProcess, fork, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root: every process the bench starts runs there, as `npm start` would. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something truthy; throws with `message` after `timeoutMs`. */
export const until = async <T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 25, message = "condition" } = {},
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${message} not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
};

/** A process the bench started; its output is kept for failure messages. */
export type Child = {
  name: string;
  process: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<void>;
};

const children = new Set<Child>();

const track = (name: string, child: ChildProcess): Child => {
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-64_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const handle = { name, process: child, pid: child.pid, output: () => output, exited };
  children.add(handle);
  void exited.then(() => children.delete(handle));
  return handle;
};

const running = (child: Child) =>
  child.process.exitCode === null && child.process.signalCode === null;

/** A program run under `node` with its own environment (no tsx: built JavaScript only). */
export const startNode = (
  name: string,
  entry: string,
  env: Record<string, string>,
  options: { nodeArgs?: string[]; ipc?: boolean } = {},
): Child => {
  const childEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env };
  const child = options.ipc
    ? fork(entry, [], {
        cwd: ROOT,
        env: childEnv,
        execArgv: options.nodeArgs ?? [],
        stdio: ["ignore", "pipe", "pipe", "ipc"],
      })
    : spawn(process.execPath, [...(options.nodeArgs ?? []), entry], {
        cwd: ROOT,
        env: childEnv,
        stdio: ["ignore", "pipe", "pipe"],
      });
  return track(name, child);
};

/** Ends a child by its pid: SIGTERM, then SIGKILL after `graceMs`. */
export const stop = async (child: Child, graceMs = 5000) => {
  if (!running(child)) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => child.process.kill("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
};

/** Whatever ends the bench, the processes it started end with it. */
export const killAll = () => {
  for (const child of children) if (running(child)) child.process.kill("SIGKILL");
};

/** Resolves once `child` prints `text`; rejects with its output if it exits first. */
export const printed = (child: Child, text: string, timeoutMs = 30_000) =>
  until(
    () => {
      if (!running(child)) throw new Error(`${child.name} exited:\n${child.output()}`);
      return child.output().includes(text);
    },
    { timeoutMs, message: `${child.name} printing "${text}"` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${child.output()}`);
  });

/** Resolves once `url` answers 200: how an orchestrator knows a service is ready. */
export const answers200 = (child: Child, url: string, timeoutMs = 60_000) =>
  until(
    async () => {
      if (!running(child)) throw new Error(`${child.name} exited:\n${child.output()}`);
      return (await fetch(url)).ok;
    },
    { timeoutMs, intervalMs: 50, message: `${child.name} ready at ${url}` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${child.output()}`);
  });

/** Resident memory of a process in MB, from /proc/<pid>/status. */
export const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Math.round(Number(line?.split(/\s+/)[1] ?? Number.NaN) / 1024);
};
