import { randomUUID } from "node:crypto";
import { dropPrefix } from "../test/helpers/redis.js";
import {
  compared,
  type Figure,
  load,
  presign,
  startBenchService,
  stopBenchService,
} from "./lib.js";

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
    ingest_requests_per_second: compared(
      Math.round(ours.requestsPerSecond),
      "req/s",
      Math.round(ceiling.requestsPerSecond),
      { text: "ratio >= 0.40", met: (_, r) => r >= 0.4 },
    ),
    ingest_p50_ms: compared(ours.p50, "ms", ceiling.p50),
    ingest_p99_ms: compared(ours.p99, "ms", ceiling.p99, {
      text: "< 10 ms",
      met: (value) => value < 10,
    }),
    ingest_non_2xx: {
      value: ours.non2xx + ours.errors,
      unit: "responses",
      goal: "0",
      met: ours.non2xx + ours.errors === 0,
    },
  };
  return figures;
};
