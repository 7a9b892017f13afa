// The result file's rows and the printed table. One row per measured figure: those with a target
// say whether it passed; the rest (target and pass null) are reported for context.

export interface BenchResult {
  /** the hot path */
  name: string;
  metric: string;
  optgraph: number | null;
  baseline: number | null;
  /** optgraph / baseline */
  ratio: number | null;
  /** "ratio >= 0.6", "ratio <= 2", "optgraph <= 100", "optgraph == 1", "both == 0", or null */
  target: string | null;
  pass: boolean | null;
}

const round = (value: number | null, digits = 2): number | null =>
  value === null || !Number.isFinite(value) ? null : Number(value.toFixed(digits));

const ratioOf = (optgraph: number | null, baseline: number | null) =>
  optgraph === null || baseline === null || !Number.isFinite(optgraph) || !baseline
    ? null
    : round(optgraph / baseline, 3);

const compare = (value: number | null, op: ">=" | "<=" | "==", bound: number) =>
  value === null
    ? false
    : op === ">="
      ? value >= bound
      : op === "<="
        ? value <= bound
        : value === bound;

export function ratioRow(
  name: string,
  metric: string,
  optgraph: number | null,
  baseline: number | null,
  op: ">=" | "<=",
  bound: number,
): BenchResult {
  const ratio = ratioOf(optgraph, baseline);
  return {
    name,
    metric,
    optgraph: round(optgraph),
    baseline: round(baseline),
    ratio,
    target: `ratio ${op} ${bound}`,
    pass: compare(ratio, op, bound),
  };
}

export function absoluteRow(
  name: string,
  metric: string,
  optgraph: number | null,
  baseline: number | null,
  op: ">=" | "<=" | "==",
  bound: number,
): BenchResult {
  return {
    name,
    metric,
    optgraph: round(optgraph),
    baseline: round(baseline),
    ratio: ratioOf(optgraph, baseline),
    target: `optgraph ${op} ${bound}`,
    pass: compare(optgraph, op, bound),
  };
}

export function infoRow(
  name: string,
  metric: string,
  optgraph: number | null,
  baseline: number | null,
): BenchResult {
  return {
    name,
    metric,
    optgraph: round(optgraph),
    baseline: round(baseline),
    ratio: ratioOf(optgraph, baseline),
    target: null,
    pass: null,
  };
}

/** Requests that did not get the expected answer: the harness's own sanity check. */
export function failuresRow(
  name: string,
  optgraph: number,
  baseline: number | null,
  metric = "failed requests",
): BenchResult {
  return {
    name,
    metric,
    optgraph,
    baseline,
    ratio: null,
    target: "both == 0",
    pass: optgraph === 0 && (baseline ?? 0) === 0,
  };
}

/** Whether `value` is a list of well-formed rows (the smoke test's check). */
export function wellFormed(value: unknown): value is BenchResult[] {
  const num = (v: unknown) => v === null || (typeof v === "number" && Number.isFinite(v));
  return (
    Array.isArray(value) &&
    value.every(
      (row) =>
        row &&
        typeof row === "object" &&
        typeof row.name === "string" &&
        typeof row.metric === "string" &&
        num(row.optgraph) &&
        num(row.baseline) &&
        num(row.ratio) &&
        (row.target === null || typeof row.target === "string") &&
        (row.pass === null || typeof row.pass === "boolean") &&
        (row.target === null) === (row.pass === null),
    )
  );
}

export function formatTable(rows: readonly BenchResult[]): string {
  const show = (v: number | null) => (v === null ? "—" : String(v));
  const cells = rows.map((r) => [
    r.name,
    r.metric,
    show(r.optgraph),
    show(r.baseline),
    show(r.ratio),
    r.target ?? "",
    r.pass === null ? "" : r.pass ? "PASS" : "FAIL",
  ]);
  const header = ["path", "metric", "optgraph", "baseline", "ratio", "target", "result"];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    `| ${c.map((cell, i) => (i >= 2 && i <= 4 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i >= 2 && i <= 4 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...cells.map(line)].join("\n");
}
