import { describe, expect, it } from "vitest";
import { ConfigError, LOCAL_API_TOKEN, LOCAL_WEBHOOK_SECRET, loadConfig } from "./config.js";

const GOOD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const GOOD_TOKEN = "a-production-token-0123456789";

const failure = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("loadConfig accepted the environment");
};

describe("loadConfig", () => {
  it("runs with zero configuration outside production, on local defaults", () => {
    const config = loadConfig({});
    expect(config.webhookSecrets).toEqual([LOCAL_WEBHOOK_SECRET]);
    expect(config.apiTokens).toEqual([LOCAL_API_TOKEN]);
    expect(config).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      role: "all",
      usingLocalDefaults: true,
    });
    expect(config.databaseUrl).toBe("postgres://localhost:5432/seam_projector");
    expect(config.redisUrl).toBe("redis://127.0.0.1:6379");
  });

  it("splits comma-separated secrets and tokens, trimming spaces", () => {
    const config = loadConfig({
      SEAM_WEBHOOK_SECRET: `${GOOD_SECRET}, ${LOCAL_WEBHOOK_SECRET}`,
      API_TOKENS: `${GOOD_TOKEN},another-token-of-16chars`,
    });
    expect(config.webhookSecrets).toEqual([GOOD_SECRET, LOCAL_WEBHOOK_SECRET]);
    expect(config.apiTokens).toEqual([GOOD_TOKEN, "another-token-of-16chars"]);
  });

  describe("in production", () => {
    const base = {
      NODE_ENV: "production",
      SEAM_WEBHOOK_SECRET: GOOD_SECRET,
      API_TOKENS: GOOD_TOKEN,
    };

    it("starts with a good secret and token", () => {
      expect(loadConfig(base).production).toBe(true);
    });

    it("takes ADMIN_TOKENS as it takes API_TOKENS, and runs read-only without them", () => {
      expect(loadConfig(base).adminTokens).toEqual([]);
      const admin = "an-admin-token-0123456789";
      expect(
        loadConfig({ ...base, ADMIN_TOKENS: ` ${admin} ,another-admin-token-16` }).adminTokens,
      ).toEqual([admin, "another-admin-token-16"]);
    });

    it.each([
      ["SEAM_WEBHOOK_SECRET", { ...base, SEAM_WEBHOOK_SECRET: "" }],
      ["SEAM_WEBHOOK_SECRET", { ...base, SEAM_WEBHOOK_SECRET: "not-a-whsec" }],
      ["SEAM_WEBHOOK_SECRET", { ...base, SEAM_WEBHOOK_SECRET: `${GOOD_SECRET},whsec_!!` }],
      ["API_TOKENS", { ...base, API_TOKENS: "" }],
      ["API_TOKENS", { ...base, API_TOKENS: "short" }],
      ["API_TOKENS", { ...base, API_TOKENS: "has a space in it, sixteen+" }],
      ["ADMIN_TOKENS", { ...base, ADMIN_TOKENS: "short" }],
      ["ADMIN_TOKENS", { ...base, ADMIN_TOKENS: "has a space in it, sixteen+" }],
      // The same token in both lists would make every holder of the API token an admin.
      ["ADMIN_TOKENS", { ...base, ADMIN_TOKENS: `other-admin-token-16,${GOOD_TOKEN}` }],
      ["ADMIN_TOKENS", { ...base, ADMIN_TOKENS: LOCAL_API_TOKEN }],
    ])("stops with one line naming %s", (name, env) => {
      const message = failure(env);
      expect(message).toContain(name);
      expect(message).not.toContain("\n");
    });

    it("refuses the published local defaults", () => {
      expect(failure({ ...base, API_TOKENS: LOCAL_API_TOKEN })).toContain("API_TOKENS");
    });
  });

  it("names a malformed variable of any kind", () => {
    expect(failure({ PORT: "eighty" })).toContain("PORT");
    expect(failure({ ROLE: "both" })).toContain("ROLE");
  });

  it("binds to one workspace only when SEAM_WORKSPACE_ID is a UUID", () => {
    expect(loadConfig({}).seamWorkspaceId).toBeUndefined();
    const id = "0F8C0B3E-6C1A-4B7E-9F3C-2D1E0A9B8C7D";
    expect(loadConfig({ SEAM_WORKSPACE_ID: id }).seamWorkspaceId).toBe(id.toLowerCase());
    expect(failure({ SEAM_WORKSPACE_ID: "not-even-a-uuid-workspace" })).toContain(
      "SEAM_WORKSPACE_ID",
    );
  });

  it("gives each API token half of MAX_WAITERS, rounded up", () => {
    const config = loadConfig({
      API_TOKENS: "token-a-0123456789,token-b-0123456789",
      MAX_WAITERS: "3",
    });
    expect(config.maxWaitersPerToken).toBe(2);
  });

  it("keeps events 90 days and dead letters 30 by default; 0 keeps all", () => {
    expect(loadConfig({})).toMatchObject({ eventsRetentionDays: 90, deadLetterRetentionDays: 30 });
    expect(loadConfig({ EVENTS_RETENTION_DAYS: "0", DEAD_LETTER_DAYS: "0" })).toMatchObject({
      eventsRetentionDays: 0,
      deadLetterRetentionDays: 0,
    });
    expect(failure({ EVENTS_RETENTION_DAYS: "-1" })).toContain("EVENTS_RETENTION_DAYS");
  });
});
