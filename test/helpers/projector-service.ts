import type { Role } from "../../src/config.js";
import { type HarnessOptions, type HarnessWithService, startHarness } from "./harness.js";

/**
 * Names src/ tests still import while their folders are reshaped by others; each is the one
 * harness (./harness.ts) under its old name.
 */
export { openEventsQueue } from "./queue.js";

/** A harness with one in-process service (ROLE=all unless told), as `service`. */
export const createProjectionHarness = (options: HarnessOptions & { role?: Role } = {}) => {
  const { role, ...shared } = options;
  return startHarness(shared, role ? { role } : {});
};

export type ProjectionHarness = HarnessWithService;
