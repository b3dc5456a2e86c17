import { startSeamSim } from "../../sim/server.js";
import type { FakeIdentity } from "../../sim/workspace.js";
import { serveRpc } from "../lib/ipc.js";

/**
 * The Seam simulator (sim/) in a process of its own, driven by the bench over IPC. Both ends of
 * the execution section's interval are stamped here, on the simulator's own monotonic clock
 * (a webhook's sending, a delete's arrival); in a process of its own, the bench's waiting and
 * bookkeeping never delay those stamps on the simulator's event loop.
 */

/** What the bench reads of a request: its route, what it named, when it arrived. */
export type SimRequestLog = { path: string; params: Record<string, unknown>; receivedMs: number };
/** What the bench reads of a webhook post: what it reported, when it went, how it was answered. */
export type SimPostLog = {
  eventType: string;
  resourceId: string;
  sentMs: number;
  answeredMs: number;
  status: number | "connection_error";
};
export type SimIdentity = FakeIdentity & { user_identity_id: string };

const [minDelay, maxDelay] = (process.env.SIM_DELETE_DELAY_MS ?? "20,200").split(",").map(Number);
const sim = await startSeamSim({ deleteDelayMs: [minDelay ?? 20, maxDelay ?? 200] });

serveRpc({
  endpoint: async () => ({ url: sim.url, apiKey: sim.apiKey }),
  /** A fresh identity (the simulator's defaults: 1 ACS user with 2 credentials, 1 each else). */
  seed: async (): Promise<SimIdentity> => sim.seedIdentity(),
  /** Where webhooks go; `{}` posts none (the events still reach `/events/list`). */
  target: async (p: { url?: string; secret?: string }) => {
    sim.setWebhookTarget(
      p.url !== undefined && p.secret !== undefined ? { url: p.url, secret: p.secret } : undefined,
    );
    return {};
  },
  /** Once every delete has completed and its webhook is posted. */
  settled: async () => {
    await sim.settled();
    return {};
  },
  /** The requests and posts from the given positions on, and where the next ones will start. */
  log: async (p: { requests: number; posted: number }) => ({
    requests: sim.requests
      .slice(p.requests)
      .map((r): SimRequestLog => ({ path: r.path, params: r.params, receivedMs: r.receivedMs })),
    posted: sim.posted.slice(p.posted).map(
      (w): SimPostLog => ({
        eventType: w.eventType,
        resourceId: w.resourceId,
        sentMs: w.sentMs,
        answeredMs: w.answeredMs,
        status: w.status,
      }),
    ),
    next: { requests: sim.requests.length, posted: sim.posted.length },
  }),
});

process.on("SIGTERM", () => {
  void sim.close().then(() => process.exit(0));
});
