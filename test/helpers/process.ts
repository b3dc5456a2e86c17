import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A port nobody listens on right now, on 127.0.0.1. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

export type ServiceProcess = {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
};

/**
 * Starts seam-projector as a child process: `entry` is a built file (dist/main.js) or the
 * TypeScript source, run through tsx. Output is kept for failure messages.
 */
export const spawnService = async (
  env: Record<string, string>,
  options: { entry?: string; nodeArgs?: string[] } = {},
): Promise<ServiceProcess> => {
  const port = env.PORT ?? String(await freePort());
  const entry = options.entry ?? "src/main.ts";
  const args = [
    ...(options.nodeArgs ?? []),
    ...(entry.endsWith(".ts") ? ["--import", "tsx", entry] : [entry]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...env,
      PORT: port,
    },
    stdio: ["ignore", "pipe", "pipe"],
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
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
};

/** Ends a child by its pid; SIGKILL if it has not exited within `graceMs`. */
export const stopService = async (service: ServiceProcess | undefined, graceMs = 5000) => {
  if (!service?.child.pid || service.child.exitCode !== null) return;
  service.child.kill("SIGTERM");
  const timer = setTimeout(() => service.child.kill("SIGKILL"), graceMs);
  await service.exited;
  clearTimeout(timer);
};
