import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, type Service } from "../../test/helpers/harness.js";
import { type RedisServer, startRedisServer } from "../../test/helpers/redis.js";
import { waitFor } from "../../test/helpers/wait-for.js";

/** CONTRACT §6: every probe answers within 2 s, whatever Redis does. */
const PROBE_BUDGET_MS = 2000;

describe("/metrics, /readyz and /healthz with Redis hung or gone (CONTRACT §6)", () => {
  let redis: RedisServer;
  let harness: Harness;
  let service: Service;
  beforeAll(async () => {
    redis = await startRedisServer();
    harness = await createHarness({ redisUrl: redis.url });
    service = await harness.start({ role: "api" });
  });
  afterAll(async () => {
    const pid = redis?.process?.child.pid;
    if (pid) process.kill(pid, "SIGCONT");
    await harness?.close();
    await redis?.close();
  });

  /** One probe, timed; its status and body. */
  const probe = async (path: string) => {
    const started = performance.now();
    const response = await fetch(`${service.url}${path}`, {
      signal: AbortSignal.timeout(30_000),
    });
    const body = await response.text();
    return { status: response.status, body, ms: performance.now() - started };
  };
  const expectProbesInTime = async () => {
    const [healthz, readyz, metrics] = await Promise.all(
      ["/healthz", "/readyz", "/metrics"].map(probe),
    );
    for (const answer of [healthz, readyz, metrics]) {
      expect(answer?.ms).toBeLessThan(PROBE_BUDGET_MS);
    }
    expect(healthz?.status).toBe(200);
    expect(readyz?.status).toBe(503);
    expect(JSON.parse(readyz?.body ?? "{}")).toMatchObject({
      checks: { redis: expect.stringMatching(/^fail/), postgres: "ok" },
    });
    expect(metrics?.status).toBe(200);
    expect(metrics?.body).toMatch(/^seam_projector_queue_readable\{[^}]*\} 0$/m);
    return metrics?.body ?? "";
  };

  it("reads the queue's figures while Redis answers", async () => {
    const metrics = await probe("/metrics");
    expect(metrics.body).toMatch(/^seam_projector_queue_readable\{[^}]*\} 1$/m);
    expect(metrics.body).toMatch(/^seam_projector_queue_jobs\{[^}]*state="waiting"[^}]*\} 0$/m);
  });

  it("answers every probe in time with Redis stopped mid-connection (SIGSTOP), the figures the last read", async () => {
    const pid = redis.process?.child.pid as number;
    process.kill(pid, "SIGSTOP");
    try {
      // Before: /metrics hung as long as Redis did.
      const metrics = await expectProbesInTime();
      expect(metrics).toMatch(/^seam_projector_queue_jobs\{[^}]*state="waiting"[^}]*\} 0$/m);
      // A second scrape while the first read still hangs: in time too, not queued behind it.
      await expectProbesInTime();
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await waitFor(async () => /queue_readable\{[^}]*\} 1$/m.test((await probe("/metrics")).body));
  });

  it("answers every probe in time with Redis gone", async () => {
    await redis.stop("SIGKILL");
    await expectProbesInTime();
  });
});
