// The bench harness on tiny settings (BENCH_SMOKE=1), so it cannot rot: every path runs against
// its baseline and the result file is well-formed. It asserts no timing — only that each path
// produced its rows and that no request of the harness failed (a broken request would otherwise
// be measured as a fast one). It runs once: on PostgreSQL when the suite has one (the path the
// real benchmark takes), on PGlite otherwise.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { PATHS } from "../../bench/lib/config.ts";
import { wellFormed, type BenchResult } from "../../bench/lib/results.ts";
import { onceAcrossEngines } from "../support/app.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "optgraph-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runHarness(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGTERM"), 150_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.runIf(onceAcrossEngines)("bench harness (smoke)", () => {
  it("measures every hot path against its baseline and writes well-formed results", async () => {
    const out = join(dir, "results.json");
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !name.startsWith("BENCH_")) env[name] = value;
    }
    env.BENCH_SMOKE = "1";
    env.BENCH_OUT = out;
    if (process.env.OPTGRAPH_TEST_ENGINE === "postgres") {
      env.BENCH_DATABASE_URL = inject("postgresUrl");
    }

    const { code, output } = await runHarness(env);
    expect(code, output).toBe(0);

    const rows: unknown = JSON.parse(readFileSync(out, "utf8"));
    expect(wellFormed(rows), JSON.stringify(rows)).toBe(true);
    const results = rows as BenchResult[];
    expect(new Set(results.map((r) => r.name))).toEqual(new Set(PATHS));
    for (const path of PATHS) {
      const own = results.filter((r) => r.name === path);
      // each path has a target of its own besides the harness's failure count
      expect(
        own.some((r) => r.target !== null && r.target !== "both == 0"),
        path,
      ).toBe(true);
      const failures = own.find((r) => r.target === "both == 0");
      expect(failures, `${path}: ${output}`).toMatchObject({ optgraph: 0, pass: true });
    }
    // the table went to stdout
    expect(output).toContain("| path ");
  }, 180_000);
});
