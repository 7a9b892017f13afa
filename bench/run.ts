// `npm run bench`: each hot path of optgraph against its baseline, in the same run, interleaved,
// after a warm-up, over several rounds; medians with p50/p95/p99 and each server's peak RSS.
// PostgreSQL when BENCH_DATABASE_URL names a server (a scratch database is created and dropped on
// it), PGlite otherwise. Writes BENCH_OUT (default bench/results.json) and prints a table.
// BENCH_SMOKE=1 runs everything tiny (for the smoke test). See docs/BENCHMARKS.md.
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { loadBenchConfig, type BenchConfig, type PathName } from "./lib/config.ts";
import type { RunContext, RunDatabase } from "./lib/context.ts";
import { log } from "./lib/interleave.ts";
import { startOptgraph } from "./lib/optgraph.ts";
import { stopAll } from "./lib/procs.ts";
import { formatTable, type BenchResult } from "./lib/results.ts";
import { seedWorld } from "./lib/seed.ts";
import { countedOptgraph } from "./lib/statements.ts";
import { canSendPath } from "./paths/can-send.ts";
import { canSendManyPath } from "./paths/can-send-many.ts";
import { fanOutPath } from "./paths/fan-out.ts";
import { optInOneOrganizationPath, optInPath } from "./paths/opt-in.ts";
import { twilioWebhookPath } from "./paths/twilio-webhook.ts";

const RUNNERS: Record<PathName, (ctx: RunContext) => Promise<BenchResult[]>> = {
  canSend: canSendPath,
  canSendMany: canSendManyPath,
  optIn: optInPath,
  optInOneOrg: optInOneOrganizationPath,
  fanOut: fanOutPath,
  twilioWebhook: twilioWebhookPath,
};

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The run's database; `drop` removes it. */
async function createDatabase(
  config: BenchConfig,
  tmpDir: string,
): Promise<{ database: RunDatabase; drop: () => Promise<void> }> {
  if (!config.databaseUrl) {
    const pgliteDir = join(tmpDir, "optgraph-db");
    return {
      database: {
        kind: "pglite",
        pgliteDir,
        baselineEnv: { BENCH_PGLITE_DIR: join(tmpDir, "baseline-db") },
      },
      drop: async () => undefined,
    };
  }
  const name = `optgraph_bench_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withAdmin(config.databaseUrl, (client) => client.query(`create database "${name}"`));
  const url = new URL(config.databaseUrl);
  url.pathname = `/${name}`;
  return {
    database: {
      kind: "postgres",
      url: url.toString(),
      baselineEnv: { BENCH_DB_URL: url.toString() },
    },
    drop: () =>
      withAdmin(config.databaseUrl!, (client) =>
        client.query(`drop database if exists "${name}" with (force)`),
      ).then(() => undefined),
  };
}

async function main() {
  const started = Date.now();
  const config = loadBenchConfig();
  const tmpDir = mkdtempSync(join(tmpdir(), "optgraph-bench-"));
  const logDir = join(tmpDir, "logs");
  mkdirSync(logDir, { recursive: true });
  if (config.profileDir) mkdirSync(config.profileDir, { recursive: true });
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const { database, drop } = await createDatabase(config, tmpDir);
  log(
    `optgraph bench${config.smoke ? " (smoke)" : ""} on ${database.kind}: ${config.rounds} rounds of ` +
      `${config.durationMs} ms after ${config.warmupMs} ms warm-up; ${machine}; logs in ${logDir}`,
  );
  let ok = false;
  try {
    const seeding = await startOptgraph(
      { config, tmpDir, logDir, database, world: null as never, windows: new Map() },
      "optgraph-seed",
    );
    let world;
    try {
      world = await seedWorld(seeding.graphqlUrl, config);
    } finally {
      await seeding.stop();
    }
    // PGlite is one process's database: the baselines get a copy of the seeded one
    if (database.kind === "pglite")
      cpSync(database.pgliteDir!, database.baselineEnv.BENCH_PGLITE_DIR, { recursive: true });
    log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const ctx: RunContext = { config, tmpDir, logDir, database, world, windows: new Map() };
    if (config.smoke) ctx.shared = await countedOptgraph(ctx, "optgraph-shared");
    const results: BenchResult[] = [];
    for (const path of config.paths) {
      const pathStarted = Date.now();
      results.push(...(await RUNNERS[path](ctx)));
      log(`${path} done in ${((Date.now() - pathStarted) / 1000).toFixed(1)} s`);
    }

    mkdirSync(dirname(config.out), { recursive: true });
    writeFileSync(config.out, `${JSON.stringify(results, null, 2)}\n`);
    if (config.profileDir) {
      for (const [name, windows] of ctx.windows) {
        writeFileSync(join(config.profileDir, `${name}.windows.json`), JSON.stringify(windows));
      }
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(formatTable(results));
    console.log(
      `\n${database.kind}, ${machine}; ${config.rounds} rounds × ${config.durationMs} ms, medians; ` +
        `${seconds.toFixed(0)} s in all; results in ${config.out}`,
    );
    if (ctx.shared) {
      await ctx.shared.server.proc.stop();
      await ctx.shared.counter.close();
    }
    ok = true;
  } finally {
    await stopAll();
    await drop().catch((error) => log(`could not drop the scratch database: ${error}`));
    if (ok && !process.env.BENCH_KEEP_LOGS) rmSync(tmpDir, { recursive: true, force: true });
    else log(`logs kept in ${logDir}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("bench failed:", error);
    process.exit(1);
  },
);
