// The method every path shares: warm both sides up, then run them in turn — optgraph, baseline,
// optgraph, baseline, … — for the configured rounds, and take the median of each figure.
import { measured, type RunContext } from "./context.ts";
import { medianOf, type Budget, type Summary } from "./stats.ts";

export interface Sides<T> {
  optgraph: (budget: Budget) => Promise<T>;
  baseline: (budget: Budget) => Promise<T>;
}

export interface Interleaved<T> {
  optgraph: T[];
  baseline: T[];
}

const started = Date.now();

/** Progress on stderr, with the seconds since the run started. */
export const log = (message: string) =>
  process.stderr.write(
    `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`,
  );

export const fmt = (s: Summary) =>
  `${s.throughput.toFixed(1)}/s p50 ${s.p50.toFixed(2)} p95 ${s.p95.toFixed(2)} p99 ${s.p99.toFixed(2)} ms` +
  (s.failures ? ` (${s.failures} failed: ${s.firstFailure})` : "");

/** Runs the two sides interleaved; optgraph's runs are marked as profile windows of `profileAs`. */
export async function interleave<T>(
  ctx: RunContext,
  name: string,
  profileAs: string,
  sides: Sides<T>,
  describe: (result: T) => string,
): Promise<Interleaved<T>> {
  const { rounds, warmupMs, durationMs, requestsPerRound } = ctx.config;
  const warmup = { durationMs: warmupMs, amount: requestsPerRound };
  const measure = { durationMs, amount: requestsPerRound };
  await sides.optgraph(warmup);
  await sides.baseline(warmup);
  const out: Interleaved<T> = { optgraph: [], baseline: [] };
  for (let round = 1; round <= rounds; round++) {
    const a = await measured(ctx, profileAs, () => sides.optgraph(measure));
    const b = await sides.baseline(measure);
    out.optgraph.push(a);
    out.baseline.push(b);
    log(`  ${name} round ${round}/${rounds}: optgraph ${describe(a)} | baseline ${describe(b)}`);
  }
  return out;
}

/** A side that got no successful response in any round measured nothing: that is a failure. */
function nothingMeasured(runs: Summary[]): Summary[] {
  if (runs.length === 0 || runs.some((r) => r.count > 0)) return runs;
  const [first, ...rest] = runs;
  return [
    {
      ...first,
      failures: first.failures + 1,
      firstFailure: first.firstFailure ?? "no successful response in any round",
    },
    ...rest,
  ];
}

/** Medians of each side, and its failures (counting a side that measured nothing as one). */
export function medians(runs: Interleaved<Summary>) {
  const optgraph = nothingMeasured(runs.optgraph);
  const baseline = nothingMeasured(runs.baseline);
  const failures = (side: Summary[]) => side.reduce((n, s) => n + s.failures, 0);
  return {
    optgraph: medianOf(optgraph),
    baseline: medianOf(baseline),
    failures: { optgraph: failures(optgraph), baseline: failures(baseline) },
  };
}
