import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "./wait-for.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Builds the server as the image does (tsc -p tsconfig.build.json); its entry, for `spawn`. */
export const buildServer = (): string => {
  execFileSync(
    process.execPath,
    [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: ROOT, stdio: "inherit" },
  );
  return "dist/main.js";
};

/**
 * Ports freePort picks among: below Linux's ephemeral range (32768–60999), which is where
 * `listen(0)` picks too, and also where every outgoing connection (a Postgres pool's, a Redis
 * client's) takes its local port. A port found free there and closed again could be taken by
 * such a connection before the child bound it: a test saw `EADDRINUSE` on a port `listen(0)`
 * had just given.
 */
const PORTS = { from: 20_000, to: 32_767 };

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

/** A port nobody listens on right now, on 127.0.0.1, outside the ephemeral range (above). */
export const freePort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from + 1));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${PORTS.from}–${PORTS.to} after 100 tries`);
};

/** A child process of a test: its output is kept for failure messages. */
export type ChildHandle = {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
};

export type ServiceProcess = ChildHandle & { url: string };

/**
 * Starts any program as a child of the test (a private redis-server or postgres too), so that
 * the test can stop it by its pid. `user` runs it as that uid and gid, for programs that refuse
 * to run as root.
 */
export const spawnChild = (
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; user?: { uid: number; gid: number } } = {},
): ChildHandle => {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.user ?? {}),
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return { child, output: () => output, exited };
};

/**
 * Starts seam-projector as a child process: `entry` is a built file (dist/main.js) or the
 * TypeScript source, run through tsx. Output is kept for failure messages. Tests start the
 * service through the harness (./harness.ts), whose process flavour this is; bench/ calls it
 * directly.
 */
export const spawnService = async (
  env: Record<string, string>,
  options: { entry?: string; nodeArgs?: string[] } = {},
): Promise<ServiceProcess> => {
  // A child told PORT=0 would listen where the test cannot find it: give it a known free port.
  const port = env.PORT && env.PORT !== "0" ? env.PORT : String(await freePort());
  const entry = options.entry ?? "src/main.ts";
  const args = [
    ...(options.nodeArgs ?? []),
    ...(entry.endsWith(".ts") ? ["--import", "tsx", entry] : [entry]),
  ];
  const handle = spawnChild(process.execPath, args, {
    env: {
      ...process.env,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...env,
      PORT: port,
    },
  });
  return { ...handle, url: `http://127.0.0.1:${port}` };
};

const isRunning = (handle: ChildHandle) =>
  handle.child.exitCode === null && handle.child.signalCode === null;

/** Sends a child one signal (SIGKILL unless told) by its pid and waits for it to exit. */
export const killChild = async (handle: ChildHandle, signal: NodeJS.Signals = "SIGKILL") => {
  if (!handle.child.pid || !isRunning(handle)) return;
  handle.child.kill(signal);
  await handle.exited;
};

/** Ends a child by its pid; SIGKILL if it has not exited within `graceMs`. */
export const stopService = async (service: ChildHandle | undefined, graceMs = 5000) => {
  if (!service?.child.pid || !isRunning(service)) return;
  service.child.kill("SIGTERM");
  const timer = setTimeout(() => service.child.kill("SIGKILL"), graceMs);
  await service.exited;
  clearTimeout(timer);
};

/** A server of the test's own that the test can stop and start again the same way. */
export type ServerChild = {
  /** The running server's process; undefined while stopped. */
  readonly process: ChildHandle | undefined;
  /** Starts it (again, on the same port and data) and resolves once it answers. */
  start: () => Promise<void>;
  /** Stops it by its pid with `signal` and waits for it to exit; nothing if stopped. */
  stop: (signal: NodeJS.Signals) => Promise<void>;
};

/**
 * A private redis-server or postgres for a drill that takes a dependency away: the machine's
 * shared ones serve every other test and are never stopped. Started once it answers `ready`;
 * a server that exits before then fails the start with its output.
 */
export const startServerChild = async (
  command: string,
  args: string[],
  options: { ready: () => Promise<boolean>; name: string; user?: { uid: number; gid: number } },
): Promise<ServerChild> => {
  let current: ChildHandle | undefined;
  const start = async () => {
    const server = spawnChild(command, args, options.user ? { user: options.user } : {});
    current = server;
    await waitFor(
      () => {
        if (!isRunning(server)) throw new Error(`${options.name} exited:\n${server.output()}`);
        return options.ready();
      },
      { timeoutMs: 20_000, message: options.name },
    );
  };
  await start();
  return {
    get process() {
      return current;
    },
    start,
    stop: async (signal) => {
      if (current) await killChild(current, signal);
      current = undefined;
    },
  };
};
