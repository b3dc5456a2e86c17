import { createParser } from "eventsource-parser";
import type { Readiness } from "../shared/readiness.js";
import type { ExecutionStrategy } from "../shared/resources.js";

/**
 * `npm run cli -- delete-identity <id>`: asks a running seam-projector to carry out the
 * deletion in Seam (`"execute": true`, CONTRACT §8) and, unless told not to wait, follows the
 * identity's Server-Sent Events stream, printing a line at each step until the execution ends.
 * It talks to the API only (a token of API_TOKENS), never to Seam or the database.
 */
export type DeleteIdentityCommand = {
  kind: "delete-identity";
  identityId: string;
  strategy: ExecutionStrategy;
  wait: boolean;
  /** The service's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  token: string;
};

const MAX_STREAM_FAILURES = 5;
const RECONNECT_DELAY_MS = 1000;

type Output = { out: (line: string) => void; err: (line: string) => void };

const counts = (readiness: Readiness) => {
  const byType = new Map<string, number>();
  for (const blocker of readiness.blockers) {
    byType.set(blocker.type, (byType.get(blocker.type) ?? 0) + 1);
  }
  return byType.size === 0
    ? "no blockers"
    : [...byType].map(([type, n]) => `${type}: ${n}`).join(", ");
};

/** Pure: the line that tells a change of the readiness object. */
const describeProgress = (readiness: Readiness): string => {
  const deletion = readiness.deletion;
  if (deletion === null) return "canceled: the deletion is gone";
  const execution = deletion.execution;
  if (execution === null) return `deletion ${deletion.status}, ${counts(readiness)}, no execution`;
  switch (execution.status) {
    case "completed":
      return `completed: the user identity is deleted in Seam (${execution.strategy})`;
    case "failed":
      return `failed in step ${execution.step}: ${execution.error?.code ?? "error"}: ${execution.error?.message ?? ""}`;
    case "running":
      return `running ${execution.strategy}, step ${execution.step}, ${counts(readiness)}`;
  }
};

/** 0 completed, 1 failed or canceled, undefined while it runs. */
const exitOf = (readiness: Readiness): number | undefined => {
  const execution = readiness.deletion?.execution;
  if (readiness.deletion === null) return 1;
  if (execution?.status === "completed") return 0;
  if (execution?.status === "failed") return 1;
  return undefined;
};

const errorLine = async (response: Response) => {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return `${response.status} ${body.error?.code ?? ""}: ${body.error?.message ?? text}`;
  } catch {
    return `${response.status}: ${text.slice(0, 200)}`;
  }
};

/** Reads the SSE stream until the execution ends (or the stream does); returns its last state. */
const follow = async (
  response: Response,
  onReadiness: (readiness: Readiness) => void,
): Promise<Readiness | undefined> => {
  let last: Readiness | undefined;
  const parser = createParser({
    onEvent: (event) => {
      if (event.event !== "readiness") return;
      last = JSON.parse(event.data) as Readiness;
      onReadiness(last);
    },
  });
  const decoder = new TextDecoder();
  const body = response.body;
  if (body === null) return last;
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
    if (last !== undefined && exitOf(last) !== undefined) break;
  }
  return last;
};

export const runDeleteIdentity = async (
  command: DeleteIdentityCommand,
  output: Output = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  },
): Promise<number> => {
  const base = `${command.url.replace(/\/$/, "")}/v1/user_identities/${command.identityId}/deletion`;
  const headers = { authorization: `Bearer ${command.token}` };
  const started = Date.now();
  const stamp = () => `${new Date().toISOString().slice(11, 23)}`;
  const posted = await fetch(base, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ execute: true, strategy: command.strategy }),
  });
  if (!posted.ok) {
    output.err(`seam-projector: the service refused the deletion: ${await errorLine(posted)}`);
    return 1;
  }
  const first = (await posted.json()) as Readiness;
  output.out(
    `${stamp()}  ${posted.status === 201 ? "requested" : "found"}: ${describeProgress(first)}`,
  );
  if (!command.wait) return exitOf(first) ?? 0;
  if (exitOf(first) !== undefined) return exitOf(first) as number;
  let shown = describeProgress(first);
  // The stream ends once the execution does; one that ends before (the service restarting,
  // a proxy's timeout) is opened again, giving up after a few failures in a row.
  for (let failures = 0; failures < MAX_STREAM_FAILURES; ) {
    const controller = new AbortController();
    try {
      const stream = await fetch(`${base}/events`, { headers, signal: controller.signal });
      if (!stream.ok) {
        output.err(`seam-projector: following the deletion failed: ${await errorLine(stream)}`);
        return 1;
      }
      const last = await follow(stream, (readiness) => {
        const line = describeProgress(readiness);
        if (line === shown) return;
        shown = line;
        output.out(`${stamp()}  ${line}`);
      });
      const code = last === undefined ? undefined : exitOf(last);
      if (code !== undefined) {
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        output.out(`${stamp()}  ${code === 0 ? "done" : "ended"} after ${seconds} s`);
        return code;
      }
      failures = 0;
    } catch {
      failures += 1;
    } finally {
      controller.abort();
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
  }
  output.err("seam-projector: lost the service; run the command again to follow the execution");
  return 1;
};
