/**
 * Milliseconds on CLOCK_MONOTONIC, which every process of the machine shares: the simulator
 * stamps what it receives and posts with it, so that two of its stamps give an interval no
 * wall-clock step can bend, and the bench can compare them with its own processes' stamps.
 */
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
