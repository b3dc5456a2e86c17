import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { monotonicMs } from "../../sim/clock.js";
import { cpuMsOf } from "../lib/cpu.js";
import { serveRpc } from "../lib/ipc.js";
import { credentialDeleted, type Delivery, presign } from "../lib/sign.js";
import type { SimIdentity } from "../servers/seam-sim.js";
import { runGuideLoop } from "./guide-loop.js";

/**
 * The load generator: a process of its own, forked by the bench, never the one that holds what
 * it measures. The bench forks one to send webhooks and, where a figure needs waiters, another
 * to hold them, so that neither competes with the other for its event loop. Times are on
 * CLOCK_MONOTONIC (`monotonicMs`), which the bench compares across processes.
 */

type LoadResult = {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  lastAnsweredAt: number;
};

const cannon = async (
  url: string,
  deliveries: Delivery[],
  options: { connections: number } & ({ durationSeconds: number } | { amount: number }),
): Promise<LoadResult> => {
  let next = 0;
  let lastAnsweredAt = 0;
  const result = await autocannon({
    url,
    connections: options.connections,
    ...("amount" in options ? { amount: options.amount } : { duration: options.durationSeconds }),
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const delivery = deliveries[next % deliveries.length] as Delivery;
          next += 1;
          return { ...req, body: delivery.body, headers: delivery.headers };
        },
        onResponse: () => {
          lastAnsweredAt = monotonicMs();
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    lastAnsweredAt,
  };
};

/**
 * wrk's script: each of its threads sends its own share of the pre-signed requests (so every
 * event id is sent once), starting at the offset given after `--`, and prints one summary line.
 */
const WRK_SCRIPT = `
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local reqs, i = {}, 0
function init(args)
  i = tonumber(args[1] or "0")
  local n = 0
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    if n % 2 == tid then
      local id, ts, sig, body = line:match("([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)")
      reqs[#reqs + 1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json",
        ["svix-id"] = id, ["svix-timestamp"] = ts, ["svix-signature"] = sig }, body)
    end
    n = n + 1
  end
end
function request() i = i % #reqs + 1; return reqs[i] end
function done(s, latency)
  local e = s.errors
  io.write(string.format("result %.1f %.3f %.3f %d %d\\n", s.requests / (s.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.status,
    e.connect + e.read + e.write + e.timeout))
end
`;

/** One wrk run (2 threads); its result, and its own share of one core over the run. */
const runWrk = (
  url: string,
  files: { script: string; requests: string },
  options: { connections: number; seconds: number; offset: number },
) =>
  new Promise<LoadResult & { cpuPercent: number }>((resolve, reject) => {
    const child = spawn(
      "wrk",
      [
        "-t2",
        `-c${options.connections}`,
        `-d${options.seconds}s`,
        "-s",
        files.script,
        url,
        "--",
        String(options.offset),
      ],
      { env: { ...process.env, WRK_REQUESTS: files.requests }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const started = monotonicMs();
    let cpuMs = 0;
    // wrk's CPU is read from /proc just before it exits (afterwards there is nothing to read).
    const sampler = setInterval(() => {
      cpuMs = cpuMsOf(child.pid ?? -1) ?? cpuMs;
    }, 100);
    child.on("error", reject);
    child.on("exit", () => {
      clearInterval(sampler);
      const line = /result ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)/.exec(output);
      if (line === null) return reject(new Error(`wrk said: ${output}`));
      const [rps, p50, p99, non2xx, errors] = line.slice(1).map(Number) as number[];
      resolve({
        requestsPerSecond: rps as number,
        p50: p50 as number,
        p99: p99 as number,
        non2xx: non2xx as number,
        errors: errors as number,
        lastAnsweredAt: monotonicMs(),
        cpuPercent: Math.round((100 * cpuMs) / (monotonicMs() - started)),
      });
    });
  });

/** One POST on a keep-alive agent; `sentAt` is when the request was handed to the socket. */
const post = (agent: Agent, url: string, delivery: Delivery) =>
  new Promise<{ status: number; sentAt: number; acceptedAt: number }>((resolve, reject) => {
    let sentAt = 0;
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { ...delivery.headers, "content-length": Buffer.byteLength(delivery.body) },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, sentAt, acceptedAt: monotonicMs() }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(delivery.body);
    sentAt = monotonicMs();
  });

type Answer = { id: string; status: number; ready: boolean; at: number };

/** The waiters this process holds: each resolves with its answer. */
let held: Promise<Answer>[] = [];
const heldRequests = new Set<ReturnType<typeof request>>();

/**
 * One long-poll (`poll`) or SSE stream (`sse`) on a connection of its own. `registered`
 * resolves once the request is written (poll) or its first event has arrived (sse: the server
 * has registered it and read its state).
 */
const hold = (agent: Agent, baseUrl: string, id: string, token: string, mode: "poll" | "sse") => {
  let markRegistered = () => {};
  const registered = new Promise<void>((resolve) => {
    markRegistered = resolve;
  });
  const path =
    mode === "poll"
      ? `/v1/user_identities/${id}/deletion?wait=60`
      : `/v1/user_identities/${id}/deletion/events`;
  const answer = new Promise<Answer>((resolve) => {
    const req = request(
      `${baseUrl}${path}`,
      { agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
          if (mode === "sse") {
            markRegistered();
            if (body.includes('"ready":true')) {
              resolve({ id, status: res.statusCode ?? 0, ready: true, at: monotonicMs() });
              req.destroy();
            }
          }
        });
        res.on("end", () =>
          resolve({
            id,
            status: res.statusCode ?? 0,
            ready: body.includes('"ready":true'),
            at: monotonicMs(),
          }),
        );
        res.on("error", () => resolve({ id, status: 0, ready: false, at: monotonicMs() }));
      },
    );
    heldRequests.add(req);
    req.on("error", () => resolve({ id, status: 0, ready: false, at: monotonicMs() }));
    req.on("close", () => heldRequests.delete(req));
    if (mode === "poll") req.on("finish", markRegistered);
    req.end();
  });
  return { registered, answer };
};

/** The ingest section's load: `count` unique signed webhooks, a warm-up, then the measured run. */
type IngestLoad = {
  url: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  count: number;
};

const webhookAgent = new Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 32 });
const waiterAgent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

serveRpc({
  /** Unique signed webhooks at `connections` for a time, after a warm-up that is not counted. */
  ingest: async (p: IngestLoad, measure) => {
    const deliveries = presign(Array.from({ length: p.count }, credentialDeleted));
    const warmup = deliveries.slice(0, Math.floor(p.count / 5));
    await cannon(p.url, warmup, { connections: p.connections, durationSeconds: p.warmupSeconds });
    measure.start();
    const result = await cannon(p.url, deliveries.slice(warmup.length), {
      connections: p.connections,
      durationSeconds: p.durationSeconds,
    });
    measure.end();
    return result;
  },

  /**
   * The same with wrk (C, two threads) as the sender: far less CPU a request than autocannon,
   * which could not load the bare route (99% of a core at ~40,000 req/s). Its own CPU share is
   * the generator's.
   */
  ingestWrk: async (p: IngestLoad, measure) => {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-wrk-"));
    try {
      const deliveries = presign(Array.from({ length: p.count }, credentialDeleted));
      const files = {
        script: path.join(dir, "post.lua"),
        requests: path.join(dir, "requests.tsv"),
      };
      writeFileSync(files.script, WRK_SCRIPT);
      writeFileSync(
        files.requests,
        `${deliveries.map((d) => `${d.headers["svix-id"]}\t${d.headers["svix-timestamp"]}\t${d.headers["svix-signature"]}\t${d.body}`).join("\n")}\n`,
      );
      const warmup = { connections: p.connections, seconds: p.warmupSeconds, offset: 0 };
      await runWrk(p.url, files, warmup);
      // Past the warm-up's requests (each of the two threads sends its own half).
      const offset = Math.floor(p.count / 10);
      measure.start();
      const { cpuPercent, ...result } = await runWrk(p.url, files, {
        connections: p.connections,
        seconds: p.durationSeconds,
        offset,
      });
      measure.end();
      return { ...result, generatorCpuPercent: cpuPercent };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  /** Every body once, as fast as `connections` go; when the first went and the last was answered. */
  burst: async (p: { url: string; bodies: string[]; connections: number }, measure) => {
    const deliveries = presign(p.bodies);
    measure.start();
    const firstSentAt = monotonicMs();
    const result = await cannon(p.url, deliveries, {
      connections: p.connections,
      amount: deliveries.length,
    });
    measure.end();
    return { ...result, firstSentAt };
  },

  /**
   * The bodies at `rate` a second on 32 keep-alive connections, in order; for each marked one,
   * when it was sent and when its 202 came back.
   */
  paced: async (p: { url: string; items: { body: string; mark?: string }[]; rate: number }, m) => {
    const deliveries = presign(p.items.map((item) => item.body));
    const marks: { mark: string; sentAt: number; acceptedAt: number }[] = [];
    const sends: Promise<number>[] = [];
    m.start();
    const started = monotonicMs();
    let next = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(
          deliveries.length,
          Math.floor(((monotonicMs() - started) * p.rate) / 1000),
        );
        while (next < due) {
          const item = p.items[next] as { mark?: string };
          const sent = post(webhookAgent, p.url, deliveries[next] as Delivery);
          next += 1;
          sends.push(
            sent.then(({ status, sentAt, acceptedAt }) => {
              if (item.mark !== undefined) marks.push({ mark: item.mark, sentAt, acceptedAt });
              return status;
            }),
          );
        }
        if (next < deliveries.length) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
    const statuses = await Promise.all(sends);
    m.end();
    return { marks, rejected: statuses.filter((status) => status !== 202).length };
  },

  /** One webhook: when it was sent and when its answer came. */
  postOne: async (p: { url: string; body: string }) => {
    const [delivery] = presign([p.body]);
    return post(webhookAgent, p.url, delivery as Delivery);
  },

  /** Opens a waiter per id, 500 at a time so the accept queue never overflows. */
  hold: async (
    p: { baseUrl: string; ids: string[]; token: string; mode: "poll" | "sse" },
    measure,
  ) => {
    measure.start();
    for (let i = 0; i < p.ids.length; i += 500) {
      const chunk = p.ids
        .slice(i, i + 500)
        .map((id) => hold(waiterAgent, p.baseUrl, id, p.token, p.mode));
      await Promise.all(chunk.map((waiter) => waiter.registered));
      held.push(...chunk.map((waiter) => waiter.answer));
    }
    return { held: held.length };
  },

  /** Every held waiter's answer (and forgets them). */
  answers: async (_p: Record<string, never>, measure) => {
    measure.start();
    const answers = await Promise.all(held);
    held = [];
    return answers;
  },

  /** Seam's guide (its polling loop) for every identity at once, each on a loop of its own. */
  guideLoops: async (p: { seam: { url: string; apiKey: string }; identities: SimIdentity[] }) =>
    Promise.all(p.identities.map((identity) => runGuideLoop(p.seam, identity))),

  /** Drops every waiter still held. */
  release: async () => {
    for (const req of heldRequests) req.destroy();
    heldRequests.clear();
    held = [];
    return {};
  },
});
