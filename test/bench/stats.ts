// Figures the benchmarks share: percentiles of samples, and a process's CPU time from /proc.
import { readdirSync, readFileSync } from "node:fs";

/** The `p`th percentile of `xs` (nearest rank, no interpolation); NaN for no samples. */
export const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** The median of `xs` as `pct(xs, 50)` (the upper middle of an even count). */
export const median = (xs: readonly number[]): number => pct(xs, 50);

/** CPU time (user + system, ms) process `pid` has used so far (Linux /proc; NaN elsewhere). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return NaN;
  }
}

/**
 * CPU time (ms, nanosecond precision) all threads of process `pid` have run so far, from each
 * thread's /proc schedstat (Linux; NaN elsewhere): precise enough for windows of a few ms, which
 * the 10 ms ticks of `cpuMs` are not. Threads that have exited are not counted, so it suits
 * long-running processes (a start-up, with its short-lived loader threads, uses `cpuMs`).
 */
export function cpuPreciseMs(pid: number): number {
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    return ns / 1e6;
  } catch {
    return NaN;
  }
}
