import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { monotonicMs } from "./clock.js";
import { createRandom } from "./random.js";
import { createRoutes, type Params } from "./routes.js";
import { createScheduler } from "./scheduler.js";
import { createWebhookPoster, type WebhookOptions, type WebhookTarget } from "./webhooks.js";
import { createWorkspace, type WorkspaceOptions } from "./workspace.js";

/**
 * A simulated Seam workspace on 127.0.0.1: the Seam API routes seam-projector calls (reads,
 * paging, and the deletes of the deletion execution), deletes that complete later and post
 * Svix-signed webhooks, and faults a test scripts (per route, per resource, or as rates).
 * Only Seam's own HTTP API is faked; Postgres and Redis are real in every test.
 */

export type Fault =
  | { status: number; retryAfter?: string }
  | { delayMs: number }
  /** Holds the answer until the promise settles, then answers normally. */
  | { hold: Promise<void> };

type SimRequest = {
  path: string;
  method: string;
  params: Params;
  at: Date;
  /** When the request arrived, before its body was read (sim/clock.ts). */
  receivedMs: number;
};

export type SeamSimOptions = WorkspaceOptions & {
  apiKey?: string;
  /** 0 (the default) takes a free port. */
  port?: number;
  /** Items per page of the paged lists (`/acs/credentials/list`, and events in cursor mode). */
  pageSize?: number;
  /**
   * `window` (Seam 1.622.0 to 1.721.0): `/events/list` answers the newest `limit` events of the interval
   * and no pagination. `cursor`: it pages with `page_cursor` like the paged lists.
   */
  eventsPaging?: "window" | "cursor";
  /** Seeds every random choice (delays, drops, duplicates, shuffles); default 1. */
  seed?: number;
  webhook?: WebhookTarget;
  webhookRetryDelaysMs?: WebhookOptions["retryDelaysMs"];
  webhookBatchWindowMs?: WebhookOptions["batchWindowMs"];
  /** Share of webhooks posted twice (the same message, as a Svix redelivery). */
  duplicateRate?: number;
  /** The events of one batch are posted in shuffled order. */
  reorder?: boolean;
  /** One line per request answered and per webhook posted. */
  log?: (line: string) => void;
};

const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

const readParams = async (req: IncomingMessage, url: URL): Promise<Params> => {
  if (req.method === "GET") {
    const params: Params = {};
    for (const key of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(key);
      params[key] = all.length > 1 ? all : all[0];
    }
    return params;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text === "" ? {} : (JSON.parse(text) as Params);
};

export const startSeamSim = async (options: SeamSimOptions = {}) => {
  const apiKey = options.apiKey ?? `seam_test_${randomUUID().replaceAll("-", "")}`;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const random = createRandom(seed);
  const scheduler = createScheduler((error) => log(`simulator task failed: ${String(error)}`));
  const webhooks = createWebhookPoster(
    {
      target: options.webhook,
      retryDelaysMs: options.webhookRetryDelaysMs,
      batchWindowMs: options.webhookBatchWindowMs,
      duplicateRate: options.duplicateRate,
      reorder: options.reorder,
    },
    { random, scheduler, log },
  );
  const workspace = createWorkspace(options, { random, scheduler, webhooks, log });
  const routes = createRoutes(
    workspace,
    { pageSize: options.pageSize ?? 2, eventsPaging: options.eventsPaging ?? "window" },
    randomUUID,
  );
  const faults = new Map<string, Fault[]>();
  const requests: SimRequest[] = [];

  const answer = async (req: IncomingMessage, res: ServerResponse, requestId: string) => {
    const receivedMs = monotonicMs();
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const params = await readParams(req, url);
    requests.push({
      path: url.pathname,
      method: req.method ?? "",
      params,
      at: new Date(),
      receivedMs,
    });
    const reply = (status: number, body: unknown, headers = {}) => {
      log(`${req.method} ${url.pathname} ${JSON.stringify(params)} → ${status}`);
      if (!res.destroyed) json(res, status, body, headers);
    };
    const error = (status: number, type: string, message: string, headers = {}) =>
      reply(status, { error: { type, message, request_id: requestId } }, headers);
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return error(401, "unauthorized", "Unauthorized");
    }
    const fault = faults.get(url.pathname)?.shift();
    if (fault && "status" in fault) {
      const headers = fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter };
      return error(fault.status, "fake_fault", `scripted ${fault.status}`, headers);
    }
    if (fault && "delayMs" in fault) {
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    }
    if (fault && "hold" in fault) await fault.hold.catch(() => {});
    const route = routes[url.pathname];
    if (route === undefined) return error(404, "not_found", "no such route");
    const [status, body] = route(params);
    reply(status, body);
  };

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    res.setHeader("seam-request-id", requestId);
    answer(req, res, requestId).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { type: "fake_bug", message: String(error) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey,
    seed,
    workspaceId: workspace.workspaceId,
    /** The access system every ACS user and credential of the workspace lives in. */
    acs: workspace.acs,
    requests,
    /** Requests made to one route. */
    calls: (path: string) => requests.filter((request) => request.path === path),
    /** The identity's resources as Seam lists them (credentials go to its ACS users in turn). */
    addIdentity: workspace.addIdentity,
    /** A fresh identity with fresh resources (defaults: 1 ACS user with 2 credentials, 1 each else). */
    seedIdentity: workspace.seedIdentity,
    addAcsUser: workspace.addAcsUser,
    addCredential: workspace.addCredential,
    /** The workspace's event log, as `/events/list` will answer it (deletions are appended). */
    setEvents: workspace.setEvents,
    /** Faults for the next requests to `path`, one per request, in order. */
    fault: (path: string, ...next: Fault[]) => {
      faults.set(path, [...(faults.get(path) ?? []), ...next]);
    },
    drop: workspace.drop,
    stuck: workspace.stuck,
    exists: workspace.exists,
    deletedAt: workspace.deletedAt,
    deleteCalls: workspace.deleteCalls,
    setWebhookTarget: webhooks.setTarget,
    /** Every attempt to post a webhook, in the order they were answered. */
    posted: webhooks.posted,
    /** Resolves once every scheduled delete has completed and its webhook is posted or dropped. */
    settled: scheduler.settled,
    close: () =>
      new Promise<void>((resolve) => {
        scheduler.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export type SeamSim = Awaited<ReturnType<typeof startSeamSim>>;
