/**
 * The stand-in Seam API of the discovery and backfill tests: the simulated Seam workspace of
 * ./seam-sim/, under the names those tests know.
 */
import { type SeamSim, type SeamSimOptions, startSeamSim } from "./seam-sim/server.js";

export type { Fault } from "./seam-sim/server.js";
export type { FakeIdentity } from "./seam-sim/workspace.js";
export type FakeSeamOptions = SeamSimOptions;
export type FakeSeam = SeamSim;
export const startFakeSeam = startSeamSim;
