// `npm run import -- <file.csv> [--campaign <id or name>] [--organization <id>] [--errors <file>]`:
// imports consent records from a CSV file into the database the service uses (DATABASE_URL, else
// the PGlite data directory, OPTGRAPH_DATA_DIR), as an import job like an upload over GraphQL,
// with a progress bar (rows and rows/s) and the bad rows written to an error file (row,reason).
// Exit code: 0 all rows imported or skipped, 2 some rows reported as errors, 1 the import failed.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { Transform } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { stringify } from "csv-stringify/sync";
import pg from "pg";
import { loadConfig, type DatabaseConfig } from "../src/config.ts";
import { DatabaseUnavailableError, openDatabase, redactUrl } from "../src/db/client.ts";
import { badInput } from "../src/domain/errors.ts";
import {
  createImportJob,
  onImportProgress,
  resolveCampaign,
  runImport,
} from "../src/services/import.ts";
import { createRuntime, type Runtime } from "../src/services/runtime.ts";

const USAGE =
  "usage: npm run import -- <file.csv> [--campaign <id or name>] [--organization <id>] [--errors <file>] [--batch-size <rows>]";

class UsageError extends Error {}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      campaign: { type: "string" },
      organization: { type: "string" },
      errors: { type: "string" },
      "batch-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const batchSize = values["batch-size"] === undefined ? undefined : Number(values["batch-size"]);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new UsageError("--batch-size must be a whole number of rows, at least 1");
  }
  const file = positionals[0];
  return {
    file,
    campaign: values.campaign,
    organization: values.organization,
    errorsFile: values.errors ?? join(dirname(file), `${basename(file, extname(file))}.errors.csv`),
    errorsFileGiven: values.errors !== undefined,
    batchSize,
  };
}

/** An organization by id (database or global), or the only one there is. */
async function organizationOf(runtime: Runtime, given: string | undefined) {
  if (given) {
    const decoded = Buffer.from(given, "base64").toString("utf8");
    const id = decoded.startsWith("Organization:") ? decoded.slice("Organization:".length) : given;
    const found = /^[0-9a-f-]{36}$/i.test(id)
      ? await runtime.prisma.organization.findUnique({ where: { id } })
      : null;
    if (!found) throw new UsageError(`--organization: no organization "${given}"`);
    return found;
  }
  const all = await runtime.prisma.organization.findMany({
    take: 2,
    orderBy: { createdAt: "asc" },
  });
  if (all.length === 1) return all[0];
  throw new UsageError(
    all.length === 0
      ? "the database has no organization yet: start optgraph once to create it"
      : "the database has several organizations: name one with --organization <id>",
  );
}

/** Whether the PostgreSQL database lacks a committed migration (the embedded one: always ask). */
async function needsMigrating(database: DatabaseConfig): Promise<boolean> {
  if (database.kind !== "postgres") return true;
  const committed = (
    await readdir(new URL("../prisma/migrations/", import.meta.url), { withFileTypes: true })
  )
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const client = new pg.Client({
    connectionString: database.url,
    connectionTimeoutMillis: database.connectTimeoutMs,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnavailableError(
      `database: cannot connect to ${redactUrl(database.url)} (${(error as Error).message})`,
    );
  }
  try {
    const { rows } = await client.query<{ name: string }>(
      `select migration_name as name from _prisma_migrations
       where finished_at is not null and rolled_back_at is null`,
    );
    const applied = new Set(rows.map((row) => row.name));
    return committed.some((name) => !applied.has(name));
  } catch {
    return true; // no migrations table yet
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations in a process of its own, as `npm run db:migrate` does: the schema
 * engine's memory (tens of MB) is not the import's.
 */
async function migrate(database: DatabaseConfig) {
  if (!(await needsMigrating(database))) return;
  // (paths resolved here, not from the working directory: the command may run from anywhere)
  // dist/import.mjs runs the migration command built beside it (a production install has no tsx)
  const built = fileURLToPath(new URL("./db-migrate.mjs", import.meta.url));
  const args = existsSync(built)
    ? [built]
    : [
        "--import",
        import.meta.resolve("tsx"),
        fileURLToPath(new URL("../scripts/db-migrate.ts", import.meta.url)),
      ];
  const child = spawn(process.execPath, args, {
    env: process.env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error("the database could not be migrated (see above)");
}

/** The bad rows, one line each as they are found: synchronous appends keep memory flat. */
function errorFile(path: string, createNow: boolean) {
  let fd: number | null = null;
  const open = () => {
    fd = openSync(path, "w");
    writeSync(fd, stringify([["row", "reason"]]));
  };
  if (createNow) open();
  return {
    write(row: number, reason: string) {
      if (fd === null) open();
      writeSync(fd!, stringify([[row, reason]]));
    },
    get written() {
      return fd !== null;
    },
    close() {
      if (fd !== null) closeSync(fd);
    },
  };
}

async function main(): Promise<number> {
  const opts = options();
  const size = (await stat(opts.file).catch(() => null))?.size;
  if (size === undefined) throw new UsageError(`cannot read ${opts.file}`);
  const config = loadConfig();
  await migrate(config.database);
  const db = await openDatabase(config.database, { migrate: false });
  const onError = (error: unknown) => console.error(error);
  // no streams are watched here: one buffered event, a slow poll
  const runtime = createRuntime(config, db, {
    onError,
    streams: { bufferSize: 1, pollIntervalMs: 60_000 },
  });
  const errors = errorFile(opts.errorsFile, opts.errorsFileGiven);
  try {
    const organization = await organizationOf(runtime, opts.organization);
    const campaign = opts.campaign
      ? await resolveCampaign(runtime, organization.id, opts.campaign).catch(() => {
          throw new UsageError(
            `--campaign: no campaign "${opts.campaign}" in ${organization.name}`,
          );
        })
      : null;
    const job = await createImportJob(runtime, {
      organizationId: organization.id,
      apiKeyId: null,
      fileName: basename(opts.file),
      campaignId: campaign?.id ?? null,
    });

    let bytes = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const input = createReadStream(opts.file).pipe(counted);
    const interrupt = () => input.destroy(badInput("file", "the import was interrupted"));
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);

    const started = performance.now();
    const bar = new SingleBar({
      format:
        "{bar} {percentage}% | {rows} rows | {rate} rows/s | {imported} imported, {skipped} skipped, {failed} bad | ETA {eta_formatted}",
      hideCursor: true,
      etaBuffer: 20,
    });
    bar.start(size, 0, { rows: 0, rate: 0, imported: 0, skipped: 0, failed: 0 });
    const stopWatching = onImportProgress(job.id, (progress) => {
      const seconds = (performance.now() - started) / 1000;
      bar.update(bytes, {
        rows: progress.processed,
        rate: seconds > 0 ? Math.round(progress.processed / seconds) : 0,
        imported: progress.imported,
        skipped: progress.skipped,
        failed: progress.failed,
      });
    });
    const done = await runImport(runtime, job, input, {
      batchSize: opts.batchSize,
      onRowError: (row, reason) => errors.write(row, reason),
    }).finally(() => {
      stopWatching();
      bar.stop();
      process.off("SIGINT", interrupt);
      process.off("SIGTERM", interrupt);
    });
    const seconds = (performance.now() - started) / 1000;

    console.log(
      `${opts.file}: ${done.status} — ${done.processed} rows in ${seconds.toFixed(1)} s ` +
        `(${Math.round(done.processed / Math.max(seconds, 0.001))} rows/s): ` +
        `${done.imported} imported, ${done.skipped} skipped, ${done.failed} bad`,
    );
    console.log(`import job ${Buffer.from(`ImportJob:${done.id}`).toString("base64")}`);
    // (resourceUsage reports kilobytes)
    console.log(`peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
    if (done.message) console.error(`import stopped: ${done.message}`);
    if (errors.written) console.log(`bad rows: ${opts.errorsFile}`);
    if (done.status === "FAILED") return 1;
    return done.failed > 0 ? 2 : 0;
  } finally {
    errors.close();
    await runtime.close();
    await db.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      error instanceof Error &&
        (error instanceof UsageError ||
          error.name === "ConfigError" ||
          error.name === "DatabaseUnavailableError")
        ? `import: ${error.message}`
        : error,
    );
    process.exitCode = 1;
  },
);
