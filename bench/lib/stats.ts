// Percentiles of one measurement, and the median across rounds.

export interface Summary {
  /** successful operations */
  count: number;
  /** operations per second over the measured window */
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  /** responses that were not the expected success (never counted in throughput or latency) */
  failures: number;
  firstFailure?: string;
}

/** Nearest-rank percentile of unsorted values (q in 0..100). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarize(
  latenciesMs: readonly number[],
  elapsedMs: number,
  failures = 0,
  firstFailure?: string,
): Summary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0
      ? NaN
      : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))];
  return {
    count: sorted.length,
    throughput: elapsedMs > 0 ? (sorted.length * 1000) / elapsedMs : NaN,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

/** The median of each figure across rounds; failures add up. */
export function medianOf(rounds: readonly Summary[]): Summary {
  const firstFailure = rounds.find((r) => r.firstFailure)?.firstFailure;
  return {
    count: median(rounds.map((r) => r.count)),
    throughput: median(rounds.map((r) => r.throughput)),
    p50: median(rounds.map((r) => r.p50)),
    p95: median(rounds.map((r) => r.p95)),
    p99: median(rounds.map((r) => r.p99)),
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
    ...(firstFailure ? { firstFailure } : {}),
  };
}

/** A monotonic clock in milliseconds that every process on the machine shares (CLOCK_MONOTONIC). */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** How long a measurement runs: a time, or (smoke runs) a number of operations. */
export interface Budget {
  durationMs: number;
  /** when set, exactly this many operations instead of `durationMs` */
  amount?: number;
}

/** Runs `op` from `concurrency` loops within `budget`; latencies of the ones that succeeded. */
export async function closedLoop(
  concurrency: number,
  budget: Budget,
  op: () => Promise<void>,
): Promise<Summary> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const started = nowMs();
  const deadline = started + budget.durationMs;
  let left = budget.amount ?? Infinity;
  const more = () => (budget.amount === undefined ? nowMs() < deadline : left-- > 0);
  const worker = async () => {
    while (more()) {
      const t0 = nowMs();
      try {
        await op();
        latencies.push(nowMs() - t0);
      } catch (error) {
        failures++;
        firstFailure ??= String((error as Error)?.message ?? error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return summarize(latencies, nowMs() - started, failures, firstFailure);
}
