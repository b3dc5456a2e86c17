import { randomUUID } from "node:crypto";
import { dropPrefix } from "../test/helpers/redis.js";
import { type Figure, load, presign, ratio, startBenchService, stopBenchService } from "./lib.js";

const CONNECTIONS = 50;
const DURATION_SECONDS = 10;
const WARMUP_SECONDS = 2;

const credentialDeleted = () =>
  JSON.stringify({
    event_id: randomUUID(),
    event_type: "acs_credential.deleted",
    workspace_id: randomUUID(),
    created_at: new Date().toISOString(),
    occurred_at: new Date().toISOString(),
    acs_system_id: randomUUID(),
    connected_account_id: randomUUID(),
    acs_credential_id: randomUUID(),
  });

const measure = async (url: string, deliveries: ReturnType<typeof presign>) => {
  await load(url, deliveries.slice(0, 40_000), {
    connections: CONNECTIONS,
    durationSeconds: WARMUP_SECONDS,
  });
  return load(url, deliveries.slice(40_000), {
    connections: CONNECTIONS,
    durationSeconds: DURATION_SECONDS,
  });
};

/**
 * Figure 1: signed webhooks with unique event ids at 50 connections for 10 s, against the bare
 * Hono route (ceiling) and against seam-projector's API role (verify + durable enqueue).
 */
export const benchIngest = async (env: { databaseUrl: string; prefix: string }) => {
  process.stdout.write("ingest: signing deliveries…\n");
  const deliveries = presign(Array.from({ length: 300_000 }, credentialDeleted));

  const bare = await startBenchService("bare-server", {});
  process.stdout.write("ingest: bare Hono ceiling…\n");
  const ceiling = await measure(`${bare.url}/webhooks/seam`, deliveries);
  await stopBenchService(bare);

  const api = await startBenchService(
    "ours",
    { ROLE: "api", DATABASE_URL: env.databaseUrl, QUEUE_PREFIX: env.prefix },
    process.env.PROFILE_API
      ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_API}`] }
      : {},
  );
  process.stdout.write("ingest: seam-projector…\n");
  const ours = await measure(`${api.url}/webhooks/seam`, deliveries);
  await stopBenchService(api);
  await dropPrefix(env.prefix);

  const figures: Record<string, Figure> = {
    ingest_requests_per_second: {
      value: Math.round(ours.requestsPerSecond),
      unit: "req/s",
      ceiling: Math.round(ceiling.requestsPerSecond),
      ratio: ratio(ours.requestsPerSecond, ceiling.requestsPerSecond),
      goal: "ratio >= 0.40",
      met: ours.requestsPerSecond / ceiling.requestsPerSecond >= 0.4,
    },
    ingest_p50_ms: {
      value: ours.p50,
      unit: "ms",
      ceiling: ceiling.p50,
      ratio: ratio(ours.p50, Math.max(ceiling.p50, 0.001)),
    },
    ingest_p99_ms: {
      value: ours.p99,
      unit: "ms",
      ceiling: ceiling.p99,
      ratio: ratio(ours.p99, Math.max(ceiling.p99, 0.001)),
      goal: "< 10 ms",
      met: ours.p99 < 10,
    },
    ingest_non_2xx: {
      value: ours.non2xx + ours.errors,
      unit: "responses",
      goal: "0",
      met: ours.non2xx + ours.errors === 0,
    },
  };
  return figures;
};
