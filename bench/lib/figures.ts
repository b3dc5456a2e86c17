/**
 * How the bench reports: every figure is the median of its rounds, with min and max beside it,
 * and, where it has one, its ceiling measured in the same rounds (interleaved: ceiling, ours,
 * ceiling, ours …) and their ratio, the median of the ratios of each round's pair. A baseline is
 * something to compare with that is not a ceiling (it may be slower than ours).
 */

/** A load generator above this share of one core may itself be what limits the figure. */
export const GENERATOR_BOUND_PERCENT = 80;

export type Figure = {
  /** The median of the rounds. */
  value: number;
  min: number;
  max: number;
  unit: string;
  rounds: number;
  /** The least work done the fastest way, measured in the same rounds. */
  ceiling?: number;
  ceiling_min?: number;
  ceiling_max?: number;
  ceiling_is?: string;
  /** value / ceiling, round by round; the median and spread of those. */
  ratio?: number;
  ratio_min?: number;
  ratio_max?: number;
  /** Something compared with that is not a ceiling. */
  baseline?: number;
  baseline_min?: number;
  baseline_max?: number;
  baseline_is?: string;
  goal?: string;
  met?: boolean;
  /** Median share of one core the load generator(s) used while this was measured. */
  generator_cpu_percent?: number;
  ceiling_generator_cpu_percent?: number;
  /** A generator above GENERATOR_BOUND_PERCENT: the figure says more about it than the server. */
  bound_by_generator?: boolean;
  note?: string;
};

const median = (values: number[]): number => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

export const percentile = (sorted: number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
};

const round = (value: number, digits = 2) => {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** (Math.abs(value) >= 100 ? 0 : digits);
  return Math.round(value * scale) / scale;
};

const spread = (values: number[]) => {
  const finite = values.filter(Number.isFinite);
  return {
    median: round(median(finite)),
    min: round(Math.min(...finite)),
    max: round(Math.max(...finite)),
  };
};

/** One measure across a section's rounds: a figure's `ours`, or its ceiling's or baseline's values. */
export const pick = <K extends string, R extends Record<K, number>>(
  rounds: R[],
  key: K,
): number[] => rounds.map((round) => round[key]);

export type FigureInput = {
  unit: string;
  /** One value per round. */
  ours: number[];
  ceiling?: { values: number[]; is: string };
  baseline?: { values: number[]; is: string };
  goal?: {
    text: string;
    met: (value: number, ratio: number | undefined) => boolean;
    /** Judged on each round, not on the median: one round that misses it misses it. */
    everyRound?: boolean;
  };
  /** The generators' CPU share per round, for ours and for the ceiling. */
  generatorCpu?: number[];
  ceilingGeneratorCpu?: number[];
  note?: string;
};

/** The goal of a count of failures (or of statements that must not run): none, in any round. */
export const NONE_IN_ANY_ROUND = {
  text: "0 in every round",
  met: (value: number) => value === 0,
  everyRound: true,
} as const;

export const figure = (input: FigureInput): Figure => {
  const ours = spread(input.ours);
  const out: Figure = {
    value: ours.median,
    min: ours.min,
    max: ours.max,
    unit: input.unit,
    rounds: input.ours.length,
  };
  let ratio: number | undefined;
  if (input.ceiling) {
    const ceiling = spread(input.ceiling.values);
    const ratios = input.ours.map((value, i) => value / (input.ceiling?.values[i] ?? Number.NaN));
    const r = spread(ratios.map((value) => round(value, 3)));
    ratio = round(median(ratios), 3);
    Object.assign(out, {
      ceiling: ceiling.median,
      ceiling_min: ceiling.min,
      ceiling_max: ceiling.max,
      ceiling_is: input.ceiling.is,
      ratio,
      ratio_min: r.min,
      ratio_max: r.max,
    });
  }
  if (input.baseline) {
    const baseline = spread(input.baseline.values);
    Object.assign(out, {
      baseline: baseline.median,
      baseline_min: baseline.min,
      baseline_max: baseline.max,
      baseline_is: input.baseline.is,
    });
  }
  const goal = input.goal;
  if (goal) {
    const met = goal.everyRound
      ? input.ours.every((value) => goal.met(value, undefined))
      : goal.met(out.value, ratio);
    Object.assign(out, { goal: goal.text, met });
  }
  const generator = input.generatorCpu ? median(input.generatorCpu) : undefined;
  const ceilingGenerator = input.ceilingGeneratorCpu
    ? median(input.ceilingGeneratorCpu)
    : undefined;
  if (generator !== undefined) out.generator_cpu_percent = Math.round(generator);
  if (ceilingGenerator !== undefined)
    out.ceiling_generator_cpu_percent = Math.round(ceilingGenerator);
  if (generator !== undefined || ceilingGenerator !== undefined) {
    out.bound_by_generator =
      (generator ?? 0) > GENERATOR_BOUND_PERCENT ||
      (ceilingGenerator ?? 0) > GENERATOR_BOUND_PERCENT;
  }
  if (input.note) out.note = input.note;
  return out;
};

/** Prints a round's raw numbers as the bench goes, so a long run shows its progress. */
export const progress = (line: string) => process.stdout.write(`${line}\n`);
