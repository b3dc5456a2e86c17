import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // One home per kind of test: *.unit.test.ts and *.int.test.ts beside the code in src/;
    // test/e2e drives the running HTTP server; test/resilience takes a process or a dependency
    // away (kills, crashes, outages, restarts); test/hostile sends what no client should;
    // test/operations checks what an operator reads (metrics, logs, dead letters, backpressure).
    // sim/ (the Seam simulator) has its own tests beside it. Every service a test runs is
    // started by test/helpers/harness.ts.
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "sim/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    pool: "forks",
    // Two cores: more parallel files only queue up on CPU and on Postgres connections.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
