/**
 * The stand-in Seam API of the discovery and backfill tests: the simulated Seam workspace of
 * sim/ (the Seam simulator), under the names those tests know.
 */
import { type SeamSim, type SeamSimOptions, startSeamSim } from "../../sim/server.js";

/**
 * A scripted answer for a route's next request (kept under this name for tests to come).
 * @public
 */
export type { Fault } from "../../sim/server.js";
export type { FakeIdentity } from "../../sim/workspace.js";

/**
 * The options of startFakeSeam (kept under this name for tests to come).
 * @public
 */
export type FakeSeamOptions = SeamSimOptions;
export type FakeSeam = SeamSim;
export const startFakeSeam = startSeamSim;
