import { Redis } from "ioredis";
import { afterAll, afterEach, expect } from "vitest";
import { type SeamSim, startSeamSim } from "../../sim/server.js";
import type { FakeIdentity } from "../../sim/workspace.js";
import type { Role } from "../../src/config.js";
import { type CallJob, createCallsQueue } from "../../src/executor/queue.js";
import type { Readiness } from "../../src/shared/readiness.js";
import { type HarnessOptions, type Service, useHarness } from "./harness.js";

/**
 * What the execution tests (CONTRACT §8) share: a harness per file, and per test one Seam
 * simulator and one service that calls it, the simulator posting its webhooks to the service.
 */

const DELETE_ROUTES = {
  client_session: "/client_sessions/delete",
  acs_credential: "/acs/credentials/delete",
  acs_user: "/acs/users/delete",
  enrollment_automation: "/user_identities/enrollment_automations/delete",
  phone: "/phones/deactivate",
  user_identity: "/user_identities/delete",
} as const;
export const STEPWISE_ORDER: string[] = Object.values(DELETE_ROUTES);
export const GET_ROUTES = [
  "/client_sessions/get",
  "/acs/credentials/get",
  "/acs/users/get",
  "/user_identities/enrollment_automations/get",
  "/phones/get",
  "/user_identities/get",
];

/** The lists discovery reads (src/seam/api.ts). */
export const LIST_ROUTES = [
  "/user_identities/list_acs_users",
  "/acs/credentials/list",
  "/phones/list",
  "/client_sessions/list",
  "/user_identities/enrollment_automations/list",
];

/** An identity with only what a test names (sim/ seeds one of each by default). */
export const ONLY = {
  acsUsers: 0,
  credentialsPerUser: 0,
  phones: 0,
  clientSessions: 0,
  enrollmentAutomations: 0,
};

/** A held answer (the simulator's `hold` fault) and what releases it. */
export const heldAnswer = () => {
  let release = () => {};
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { fault: { hold }, release };
};

/** Every resource of a seeded identity, and the identity, in stepwise order. */
export const resourceIdsOf = (identity: FakeIdentity & { user_identity_id: string }) => [
  ...identity.client_session_ids,
  ...identity.acs_credential_ids,
  ...identity.acs_user_ids,
  ...identity.enrollment_automation_ids,
  ...identity.phone_ids,
  identity.user_identity_id,
];

export const deletesIn = (sim: SeamSim) =>
  sim.requests.filter((r) => STEPWISE_ORDER.includes(r.path));
export const getsIn = (sim: SeamSim) => sim.requests.filter((r) => GET_ROUTES.includes(r.path));

/**
 * Registers the file's harness and the afterEach that stops each test's service and simulator:
 * a service left running would take the next test's Seam calls (the queue is the harness's) to
 * a simulator that is gone.
 */
export const useExecutions = (options: HarnessOptions | (() => Promise<HarnessOptions>)) => {
  const harness = useHarness(options, false);
  let sim: SeamSim | undefined;
  let running: Service | undefined;
  let queue: ReturnType<typeof openCallsQueue> | undefined;
  afterAll(() => queue?.close());
  afterEach(async () => {
    await running?.stop();
    await sim?.close();
    [running, sim] = [undefined, undefined];
  });

  /** `role`: `api` leaves the Seam-call jobs queued, for a test that runs them itself. */
  const start = async (
    simOptions: Parameters<typeof startSeamSim>[0] = {},
    env: Record<string, string> = {},
    role: Role = "all",
  ) => {
    sim = await startSeamSim({ deleteDelayMs: [5, 40], ...simOptions });
    const service = await harness().start({ seam: sim, env, role });
    running = service;
    sim.setWebhookTarget({ url: service.webhookUrl, secret: service.secret });
    const execute = (identityId: string, body: Record<string, unknown> = {}) =>
      service.call("POST", `/v1/user_identities/${identityId}/deletion`, {
        execute: true,
        ...body,
      });
    const waitEnded = async (identityId: string) => {
      const response = await service.waitDeletion(identityId, 30);
      expect(response.status).toBe(200);
      return (await response.json()) as Readiness;
    };
    return { sim, service, execute, waitEnded };
  };

  /** A service of the harness with no Seam (a test that needs none). */
  const startWithoutSeam = async () => {
    running = await harness().start();
    return running;
  };

  /** The harness's Seam-call queue, opened at first use. */
  const callsQueue = () => {
    queue ??= openCallsQueue(harness().prefix, harness().redisUrl);
    return queue;
  };

  return { harness, start, startWithoutSeam, callsQueue };
};

/** A handle on a harness's Seam-call queue: what became of each job (its `CallResult` kind). */
const openCallsQueue = (prefix: string, redisUrl: string) => {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on("error", () => {});
  const queue = createCallsQueue(connection, prefix);
  queue.on("error", () => {});
  return {
    /** The result of the finished job whose data matches, once there is one; else undefined. */
    resultOf: async (match: Partial<CallJob>): Promise<string | undefined> => {
      const jobs = await queue.getJobs(["completed"]);
      const job = jobs.find((j) =>
        Object.entries(match).every(([key, value]) => j.data[key as keyof CallJob] === value),
      );
      return job?.returnvalue as string | undefined;
    },
    /** The data of the jobs waiting to run, as the worker would take them. */
    waitingJobs: async (): Promise<CallJob[]> =>
      (await queue.getJobs(["waiting"])).map((job) => job.data),
    /** Jobs waiting to run or running (delayed ones, a timeout's checks, not counted). */
    inFlight: async (): Promise<number> => {
      const counts = await queue.getJobCounts("waiting", "active", "prioritized");
      return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0);
    },
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
};
