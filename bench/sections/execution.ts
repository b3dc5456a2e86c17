import { randomBytes } from "node:crypto";
import { resetTables } from "../lib/events.js";
import { type Figure, figure, NONE_IN_ANY_ROUND, percentile, progress } from "../lib/figures.js";
import {
  DATABASE_URL,
  dropPrefix,
  type LoadProcess,
  startBenchServer,
  startLoad,
  startOurs,
  startSimProcess,
  stopAll,
} from "../lib/services.js";
import { BENCH_SECRET, BENCH_TOKEN } from "../lib/sign.js";
import type { SimIdentity, SimPostLog, SimRequestLog } from "../servers/seam-sim.js";

/** Executions measured a round, one after another; `BENCH_EXECUTIONS` for more. */
const EXECUTIONS = Math.max(1, Number(process.env.BENCH_EXECUTIONS ?? 50));
/** Executions run first and not counted: a process just started runs cold (JIT, connections). */
const WARMUP = 3;
/**
 * How long a delete takes to complete (and its webhook to go), drawn in [min, max]: the
 * simulator's defaults, or `BENCH_SIM_DELETE_DELAY_MS=min,max` (the guide's loop polls longer
 * as deletes take longer; the execution makes no request more).
 */
const DELETE_DELAY_MS = (process.env.BENCH_SIM_DELETE_DELAY_MS ?? "20,200")
  .split(",")
  .map(Number) as [number, number];
if (
  DELETE_DELAY_MS.length !== 2 ||
  !(DELETE_DELAY_MS[0] >= 0 && DELETE_DELAY_MS[1] >= DELETE_DELAY_MS[0])
) {
  throw new Error("BENCH_SIM_DELETE_DELAY_MS: min,max in ms, 0 <= min <= max");
}

/** The routes the service's discovery lists an identity's resources with (src/seam/api.ts). */
const LISTS = new Set([
  "/user_identities/list_acs_users",
  "/acs/credentials/list",
  "/phones/list",
  "/client_sessions/list",
  "/user_identities/enrollment_automations/list",
]);
/** Requests made while waiting for events: polls of the event log and gets of a resource. */
const isWaiting = (path: string) => path === "/events/list" || path.endsWith("/get");

type Sim = Awaited<ReturnType<typeof startSimProcess>>;
type Log = { requests: SimRequestLog[]; posted: SimPostLog[] };

/** Reads the simulator's log from one position to the next: what one execution caused. */
const logReader = (sim: Sim) => {
  let from = { requests: 0, posted: 0 };
  return async (): Promise<Log> => {
    await sim.call("settled");
    const { result } = await sim.call<Log & { next: typeof from }>("log", from);
    from = result.next;
    return result;
  };
};

/**
 * The interval measured, on the simulator's clock: from the sending of the identity's last
 * `acs_credential.deleted` webhook (the last event its `acs_credentials` step awaits) to the
 * arrival of its `/acs/users/delete` (the first call of the next step); and from that webhook's
 * answer (the 202) to the same delete. Undefined if either end is missing or the delete came first.
 */
type Wake = { fromSent: number; fromAnswered: number };

const stepWake = (log: Log, identity: SimIdentity): Wake | undefined => {
  const credentials = new Set(identity.acs_credential_ids);
  const posts = log.posted.filter(
    (post) =>
      post.eventType === "acs_credential.deleted" &&
      credentials.has(post.resourceId) &&
      typeof post.status === "number" &&
      post.status < 300,
  );
  const userDelete = log.requests.find(
    (request) =>
      request.path === "/acs/users/delete" &&
      identity.acs_user_ids.includes(String(request.params.acs_user_id)),
  );
  const last = posts.sort((a, b) => b.sentMs - a.sentMs)[0];
  if (posts.length < credentials.size || last === undefined || userDelete === undefined) {
    return undefined;
  }
  const fromSent = userDelete.receivedMs - last.sentMs;
  return fromSent >= 0
    ? { fromSent, fromAnswered: userDelete.receivedMs - last.answeredMs }
    : undefined;
};

type WakeRound = { p50: number; p99: number; afterAnsweredP50: number; failures: number };

const summarize = (wakes: (Wake | undefined)[]): WakeRound => {
  const measured = wakes.filter((wake) => wake !== undefined);
  const sorted = (values: number[]) => values.sort((a, b) => a - b);
  const fromSent = sorted(measured.map((wake) => wake.fromSent));
  return {
    p50: percentile(fromSent, 50),
    p99: percentile(fromSent, 99),
    afterAnsweredP50: percentile(sorted(measured.map((wake) => wake.fromAnswered)), 50),
    failures: wakes.length - measured.length,
  };
};

/** Runs `once` WARMUP times uncounted, then EXECUTIONS times: each one's result. */
const repeat = async <T>(once: () => Promise<T>): Promise<T[]> => {
  for (let i = 0; i < WARMUP; i += 1) await once();
  const results: T[] = [];
  for (let i = 0; i < EXECUTIONS; i += 1) results.push(await once());
  return results;
};

/**
 * The ceiling: the bare relay (bench/servers/bare-relay.ts) deletes an identity's credentials
 * and, on the last one's webhook, sends the ACS user's delete at once.
 */
const measureCeiling = async (): Promise<WakeRound> => {
  const sim = await startSimProcess("exec-ceiling-sim", DELETE_DELAY_MS);
  const relay = await startBenchServer("bare-relay", {
    SEAM_ENDPOINT: sim.url,
    SEAM_API_KEY: sim.apiKey,
  });
  try {
    await sim.call("target", { url: `${relay.url}/webhooks/seam`, secret: BENCH_SECRET });
    const read = logReader(sim);
    const wakes = await repeat(async () => {
      const { result: identity } = await sim.call<SimIdentity>("seed");
      const expected = await fetch(`${relay.url}/expect`, {
        method: "POST",
        // A webhook the relay never got would hold the call for good: fail the section instead.
        signal: AbortSignal.timeout(30_000),
        body: JSON.stringify({
          acs_credential_ids: identity.acs_credential_ids,
          acs_user_id: identity.acs_user_ids[0],
        }),
      });
      if (!expected.ok) throw new Error(`bare relay: ${await expected.text()}`);
      return stepWake(await read(), identity);
    });
    return summarize(wakes);
  } finally {
    await stopAll(relay, sim);
  }
};

type OursRound = WakeRound & { requests: number; waiting: number; lists: number };

/**
 * seam-projector (ROLE=all) runs each identity's execution (`"execute": true`, stepwise) to its
 * end, one after another; the simulator posts its webhooks to it.
 */
const measureOurs = async (): Promise<OursRound> => {
  const sim = await startSimProcess("exec-ours-sim", DELETE_DELAY_MS);
  const prefix = `bench-exec-${randomBytes(4).toString("hex")}`;
  await resetTables(DATABASE_URL);
  const service = await startOurs("all", {
    ROLE: "all",
    QUEUE_PREFIX: prefix,
    SEAM_API_KEY: sim.apiKey,
    SEAM_ENDPOINT: sim.url,
  });
  try {
    await sim.call("target", { url: `${service.url}/webhooks/seam`, secret: BENCH_SECRET });
    const read = logReader(sim);
    const headers = { authorization: `Bearer ${BENCH_TOKEN}`, "content-type": "application/json" };
    const executions = await repeat(async () => {
      const { result: identity } = await sim.call<SimIdentity>("seed");
      const deletion = `${service.url}/v1/user_identities/${identity.user_identity_id}/deletion`;
      const started = await fetch(deletion, {
        method: "POST",
        headers,
        body: JSON.stringify({ execute: true }),
      });
      await started.arrayBuffer();
      const ended = await fetch(`${deletion}?wait=30`, { headers });
      const body = (await ended.json()) as { deletion?: { execution?: { status?: string } } };
      const log = await read();
      const completed = started.status === 201 && body.deletion?.execution?.status === "completed";
      return {
        wake: completed ? stepWake(log, identity) : undefined,
        requests: log.requests.length,
        waiting: log.requests.filter((request) => isWaiting(request.path)).length,
        lists: log.requests.filter((request) => LISTS.has(request.path)).length,
      };
    });
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    return {
      ...summarize(executions.map((execution) => execution.wake)),
      requests: mean(executions.map((execution) => execution.requests)),
      waiting: mean(executions.map((execution) => execution.waiting)),
      lists: mean(executions.map((execution) => execution.lists)),
    };
  } finally {
    await stopAll(service, sim);
    await dropPrefix(prefix);
  }
};

type PollingRound = { requests: number; waiting: number };

/**
 * The guide's polling loop (bench/load/guide-loop.ts) in a load process of its own, for as many
 * identities of the same shape, all at once; the requests the simulator received, per identity.
 */
const measurePolling = async (load: LoadProcess): Promise<PollingRound> => {
  const sim = await startSimProcess("exec-polling-sim", DELETE_DELAY_MS);
  try {
    const identities: SimIdentity[] = [];
    for (let i = 0; i < EXECUTIONS; i += 1) {
      identities.push((await sim.call<SimIdentity>("seed")).result);
    }
    await load.call("guideLoops", { seam: { url: sim.url, apiKey: sim.apiKey }, identities });
    const log = await logReader(sim)();
    return {
      requests: log.requests.length / EXECUTIONS,
      waiting: log.requests.filter((request) => isWaiting(request.path)).length / EXECUTIONS,
    };
  } finally {
    await stopAll(sim);
  }
};

const ms = (value: number) => value.toFixed(2);

/**
 * The execution (CONTRACT §8) on an idle service against the Seam simulator, each in a process
 * of its own: how soon a step's last awaited webhook leads to the next step's first call, beside
 * the bare relay's; and the Seam requests an execution makes, beside the guide's polling loop.
 */
export const benchExecution = async (rounds: number): Promise<Record<string, Figure>> => {
  const ceiling: WakeRound[] = [];
  const ours: OursRound[] = [];
  const polling: PollingRound[] = [];
  const load = await startLoad("exec-guide-loop");
  try {
    for (let round = 1; round <= rounds; round += 1) {
      progress(`execution: round ${round} of ${rounds}, ${EXECUTIONS} executions each`);
      const c = await measureCeiling();
      ceiling.push(c);
      progress(
        `  bare relay          p50 ${ms(c.p50)} ms  p99 ${ms(c.p99)} ms  failures ${c.failures}`,
      );
      const o = await measureOurs();
      ours.push(o);
      progress(
        `  seam-projector      p50 ${ms(o.p50)} ms  p99 ${ms(o.p99)} ms  (after the 202: p50 ${ms(o.afterAnsweredP50)} ms)  failures ${o.failures}  requests/execution ${o.requests} (lists ${o.lists}, while waiting ${o.waiting})`,
      );
      const p = await measurePolling(load);
      polling.push(p);
      progress(`  guide's polling     requests/execution ${p.requests} (events.list ${p.waiting})`);
    }
  } finally {
    await stopAll(load);
  }
  const ceilingIs =
    "a bare relay (node:http, no signature check, no Postgres, no queue) that sends /acs/users/delete the moment it has parsed the last acs_credential.deleted, against the same simulator";
  const pollingIs = `Seam's guide run by its polling loop (events.list once a second per waiting step) for ${EXECUTIONS} identities of the same shape at once, its listing not counted`;
  const slower = EXECUTIONS - Math.ceil(0.99 * EXECUTIONS);
  const p99Rank =
    slower === 0 ? `of ${EXECUTIONS}: the slowest` : `of ${EXECUTIONS}: ${slower} slower`;
  const shape =
    "identities of 1 ACS user with 2 credentials, 1 phone, 1 client session, 1 enrollment automation";
  return {
    execution_step_wake_p50_ms: figure({
      unit: `ms on the simulator's monotonic clock, a stepwise execution's last acs_credential.deleted webhook sent → its /acs/users/delete received; ${EXECUTIONS} executions one after another on an idle service (ROLE=all), ${shape}`,
      ours: ours.map((r) => r.p50),
      ceiling: { values: ceiling.map((r) => r.p50), is: ceilingIs },
      goal: { text: "< 20 ms", met: (value) => value < 20 },
    }),
    execution_step_wake_p99_ms: figure({
      unit: `ms, the same, p99 (${p99Rank})`,
      ours: ours.map((r) => r.p99),
      ceiling: { values: ceiling.map((r) => r.p99), is: ceilingIs },
    }),
    execution_step_wake_after_202_p50_ms: figure({
      unit: "ms, the same from the webhook's 202 (the time ingest took is left out: projection, the Seam-call queue and the call), p50",
      ours: ours.map((r) => r.afterAnsweredP50),
    }),
    execution_step_wake_failures: figure({
      unit: "executions not completed, or whose interval could not be read",
      ours: ours.map((r) => r.failures),
      goal: NONE_IN_ANY_ROUND,
    }),
    execution_seam_requests: figure({
      unit: `Seam requests per execution, every route, as the simulator counted them (ours includes its ${ours[0]?.lists ?? 5} discovery lists; the guide's loop does not list); deletes take ${DELETE_DELAY_MS.join("–")} ms to be reported, so the loop waits about a second per step: real deletes that take longer cost it one request more a second`,
      ours: ours.map((r) => r.requests),
      baseline: { values: polling.map((r) => r.requests), is: pollingIs },
    }),
    execution_seam_requests_while_waiting: figure({
      unit: "of those, requests made while waiting for events (events.list, gets)",
      ours: ours.map((r) => r.waiting),
      baseline: { values: polling.map((r) => r.waiting), is: pollingIs },
    }),
  };
};
