import { readdirSync, readFileSync } from "node:fs";

/** Linux reports process CPU time in clock ticks; 100 a second on every usual build. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux only). */
export const cpuMsOf = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SECOND);
  } catch {
    return undefined; // gone
  }
};

/** The pids of every process whose command name is `name` (redis-server, postgres). */
const pidsNamed = (name: string): number[] =>
  readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);

/** The local Redis and Postgres servers (every Postgres backend: the cluster is shared). */
export const SERVER_PROCESSES = {
  redis: () => pidsNamed("redis-server"),
  postgres: () => pidsNamed("postgres"),
};

/**
 * Starts measuring the CPU that groups of processes use; the function it returns tells, for
 * each group, the per cent of one core used since the start. Each group lists its pids at both
 * ends: a process that starts meanwhile (a Postgres backend) counts from its start.
 */
export const cpuMeter = <K extends string>(groups: Record<K, () => number[]>) => {
  const keys = Object.keys(groups) as K[];
  const sample = () =>
    keys.map((key) => {
      const used = new Map<number, number>();
      for (const pid of groups[key]()) {
        const ms = cpuMsOf(pid);
        if (ms !== undefined) used.set(pid, ms);
      }
      return used;
    });
  const before = sample();
  const started = performance.now();
  return () => {
    const after = sample();
    const elapsedMs = performance.now() - started;
    const percent = {} as Record<K, number>;
    keys.forEach((key, i) => {
      let used = 0;
      for (const [pid, now] of after[i] ?? []) used += now - (before[i]?.get(pid) ?? 0);
      percent[key] = Math.round((100 * used) / elapsedMs);
    });
    return percent;
  };
};
