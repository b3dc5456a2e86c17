import { randomUUID } from "node:crypto";
import type { Role } from "../../src/config.js";
import type { Logger } from "../../src/log.js";
import type { SeamApi } from "../../src/seam/api.js";
import type { Readiness } from "../../src/shared/readiness.js";
import { createHarness } from "./harness.js";
import type { TestDatabase } from "./postgres.js";

export { followEvents, readEvents, TEST_TOKEN } from "./client.js";
export type { Readiness };

export type LinkableType = Readiness["blockers"][number]["type"];

/** The Seam event that deletes one resource, with the fields @seamapi/types requires. */
export const deletionEvent = (
  type: LinkableType,
  id: string,
  at: Date = new Date(),
): Record<string, unknown> => {
  const base = {
    event_id: randomUUID(),
    workspace_id: randomUUID(),
    created_at: at.toISOString(),
    occurred_at: at.toISOString(),
  };
  const acs = { acs_system_id: randomUUID(), connected_account_id: randomUUID() };
  switch (type) {
    case "acs_user":
      return { ...base, ...acs, event_type: "acs_user.deleted", acs_user_id: id };
    case "acs_credential":
      return { ...base, ...acs, event_type: "acs_credential.deleted", acs_credential_id: id };
    case "enrollment_automation":
      return {
        ...base,
        event_type: "enrollment_automation.deleted",
        enrollment_automation_id: id,
      };
    case "phone":
      return { ...base, event_type: "phone.deactivated", device_id: id };
    case "client_session":
      return { ...base, event_type: "client_session.deleted", client_session_id: id };
  }
};

/**
 * The harness's in-process service under the name src/ tests still import (their folders are
 * being reshaped at the same time): one service on a harness of its own, closed together.
 */
export const startReadinessService = async (
  options: {
    role?: Role;
    database?: TestDatabase;
    databaseUrl?: string;
    prefix?: string;
    secret?: string;
    env?: Record<string, string>;
    log?: Logger;
    seamApi?: SeamApi;
  } = {},
) => {
  const { role, env, log, seamApi, ...shared } = options;
  const harness = await createHarness(shared);
  const service = await harness
    .start({
      ...(role ? { role } : {}),
      ...(env ? { env } : {}),
      ...(log ? { log } : {}),
      ...(seamApi ? { seamApi } : {}),
    })
    .catch(async (error: unknown) => {
      await harness.close();
      throw error;
    });
  return Object.assign(service, {
    database: harness.database,
    prefix: harness.prefix,
    secret: harness.secret,
    close: harness.close,
  });
};

export type ReadinessService = Awaited<ReturnType<typeof startReadinessService>>;
