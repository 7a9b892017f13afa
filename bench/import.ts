// `npm run bench:import -- [--rows 200000] [--bad 0.01] [--batch-size 2000] [--runs 3]`: the consent
// import against a COPY of the same rows, in the same run. Generates a CSV (1% bad rows by
// default) in a temp directory and imports it with the import command as an operator runs it
// (`npm run import`, a process of its own) into a fresh organization, on a scratch database
// created on BENCH_DATABASE_URL and dropped after (or a temp PGlite database); checks that every
// good row is in the ledger and every bad row reported, imports it again to show nothing is
// applied twice, then COPYs the same file into a scratch table. Prints rows/s (from the job's own
// start and finish), the ratio to COPY, and the import process's peak resident memory.
import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import pg from "pg";
import { loadConfig } from "../src/config.ts";
import { openDatabase, type Database } from "../src/db/client.ts";
import type { Actor } from "../src/domain/api-key.ts";
import { setCampaignStatus, createCampaign } from "../src/services/campaigns.ts";
import { createSender } from "../src/services/senders.ts";
import { verifyLedger } from "../src/services/ledger.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "200000" },
    bad: { type: "string", default: "0.01" },
    "batch-size": { type: "string", default: "2000" },
    runs: { type: "string", default: "3" },
  },
});
const ROWS = Number(args.rows);
const BAD_EVERY = Math.round(1 / Number(args.bad));
const BATCH_SIZE = Number(args["batch-size"]);
const COPY_RUNS = Number(args.runs);
/** BENCH_DATABASE_URL names a server: the run works in a scratch database of its own there. */
const serverUrl = process.env.BENCH_DATABASE_URL;
const scratchName = `optgraph_bench_import_${process.pid}_${Date.now().toString(36)}`;
const databaseUrl = serverUrl
  ? Object.assign(new URL(serverUrl), { pathname: `/${scratchName}` }).toString()
  : undefined;

async function onServer(sql: string) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const COLUMNS = "phone,status,occurred_at,method,campaign,ip,user_agent,source_url,consent_text";
const AREA_CODES = [201, 212, 213, 305, 312, 404, 415, 512, 617, 702, 713, 718, 818, 917, 206];
/** Bad values of every kind that keep the row's shape (so COPY takes the same file). */
const BAD_KINDS: ((good: string[]) => string[])[] = [
  (r) => ["12345", ...r.slice(1)],
  (r) => [r[0], "subscribed", ...r.slice(2)],
  (r) => [r[0], r[1], "2999-01-01T00:00:00Z", ...r.slice(3)],
  (r) => [r[0], r[1], "2024-03-01 10:00", ...r.slice(3)],
  (r) => [...r.slice(0, 3), "FAX", ...r.slice(4)],
  (r) => [...r.slice(0, 4), "No such campaign", ...r.slice(5)],
  (r) => [...r.slice(0, 5), "999.1.1.1", ...r.slice(6)],
  (r) => [...r.slice(0, 7), "ftp://example.com/form", r[8]],
];

/** The n-th valid US mobile-or-fixed number (skipping the few candidates libphonenumber refuses). */
function* phones() {
  for (let n = 0; ; n++) {
    const area = AREA_CODES[n % AREA_CODES.length];
    const rest = Math.floor(n / AREA_CODES.length);
    const exchange = 200 + (rest % 700);
    const line = Math.floor(rest / 700) % 10_000;
    if (exchange % 100 === 11 || exchange === 555) continue;
    const e164 = `+1${area}${exchange}${String(line).padStart(4, "0")}`;
    if (parsePhoneNumberFromString(e164)?.isValid()) yield e164;
  }
}

const csvField = (value: string) =>
  /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;

/**
 * Writes the file: mostly single opt-ins of distinct numbers, and every tenth number opting out
 * again a few rows later (in time order, so every good row changes a consent). Returns which
 * rows are bad.
 */
async function generate(file: string, rows: number) {
  const out = createWriteStream(file);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, "drain");
  };
  await write(`${COLUMNS}\n`);
  const numbers = phones();
  const start = Date.parse("2023-01-01T00:00:00Z");
  const laterOptOuts: { dueRow: number; fields: string[] }[] = [];
  const badRows: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row = i + 2;
    let fields: string[];
    if (laterOptOuts.length > 0 && laterOptOuts[0].dueRow <= row) {
      fields = laterOptOuts.shift()!.fields;
    } else {
      const phone = numbers.next().value as string;
      const at = new Date(start + i * 60_000).toISOString();
      fields = [
        phone,
        "opted_in",
        at,
        ["WEB_FORM", "CHECKBOX", "KEYWORD", ""][i % 4],
        "",
        `203.0.113.${i % 250}`,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
        "https://shop.example/join",
        "Yes, send me Acme Deals texts. Msg & data rates may apply. Reply STOP to cancel.",
      ];
      if (i % 10 === 3) {
        const out = new Date(start + i * 60_000 + 86_400_000).toISOString();
        laterOptOuts.push({
          dueRow: row + 7,
          fields: [phone, "opted_out", out, "KEYWORD", "", "", "", "", ""],
        });
      }
    }
    if (i % BAD_EVERY === BAD_EVERY - 1) {
      fields = BAD_KINDS[((i / BAD_EVERY) % BAD_KINDS.length) | 0](fields);
      badRows.push(row);
    }
    await write(`${fields.map(csvField).join(",")}\n`);
  }
  out.end();
  await once(out, "finish");
  return badRows;
}

async function setUp(prisma: Database["prisma"], name: string) {
  const organization = await prisma.organization.create({ data: { name } });
  const actor: Actor = {
    apiKeyId: "",
    organizationId: organization.id,
    role: "ADMIN",
    campaignIds: null,
    isPlatform: false,
  };
  const sender = await createSender(
    prisma,
    actor,
    {
      address: `+1415${randomInt(2, 10)}${String(randomInt(1_000_000)).padStart(6, "0")}`,
      kind: "LONG_CODE",
    },
    "US",
  );
  const programName = "Acme Deals";
  const campaign = await createCampaign(prisma, actor, {
    name: "Bench",
    purpose: "INFORMATIONAL",
    senderId: sender.id,
    disclosures: {
      programName,
      messageFrequency: "Up to 4 msgs/month",
      termsUrl: null,
      privacyUrl: null,
      helpText: "Help at support@acme.example.",
      optInConfirmation: "Acme Deals: you're in. Reply HELP for help, STOP to cancel.",
      optOutConfirmation: "Acme Deals: you're out. Reply START to rejoin.",
      consentLanguage:
        "Acme Deals texts. Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
    },
  });
  await setCampaignStatus(prisma, actor, { id: campaign.id, status: "ACTIVE" });
  return { organizationId: organization.id, campaignId: campaign.id };
}

/** Runs `npm run import` on the file; returns its job (read back) and the process's peak memory. */
async function importFile(
  dir: string,
  env: Record<string, string>,
  file: string,
  target: { organizationId: string; campaignId: string },
) {
  const args = ["--campaign", target.campaignId, "--organization", target.organizationId];
  args.push("--batch-size", String(BATCH_SIZE));
  const child = spawn(
    "npm",
    ["run", "--silent", "import", "--", file, ...args, "--errors", join(dir, "errors.csv")],
    {
      cwd: new URL("../", import.meta.url),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  const jobId = /import job (\S+)/.exec(stdout)?.[1];
  const peakMb = Number(/peak memory (\d+) MB/.exec(stdout)?.[1]);
  if ((code !== 0 && code !== 2) || !jobId) {
    throw new Error(`npm run import exited with ${code}:\n${stdout}`);
  }
  return { jobId: Buffer.from(jobId, "base64").toString("utf8").split(":")[1], peakMb };
}

function migrate(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/db-migrate.ts"], {
    cwd: new URL("../", import.meta.url),
    env: { ...process.env, ...env },
    stdio: "inherit",
  });
  return new Promise<void>((resolve, reject) =>
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`db:migrate: ${code}`)))),
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** The tables an import writes, parents first. */
const WRITTEN = ["Subscriber", "Consent", "ConsentEvent", "ImportedRecord"];

/**
 * A second reference, for where the time goes: the rows the import wrote, written again by the
 * server itself (INSERT … SELECT, no parsing, no client) into copies of the four tables with the
 * same indexes and foreign keys, in a scratch schema. What any import of these rows into this
 * schema costs at least. Median of COPY_RUNS.
 */
async function writeFloor(db: Database, organizationId: string): Promise<number> {
  const sql = (text: string) => db.prisma.$executeRawUnsafe(text);
  const constraints = await db.prisma.$queryRawUnsafe<
    { table: string; name: string; def: string }[]
  >(
    `select c.conrelid::regclass::text as table, c.conname as name,
            pg_get_constraintdef(c.oid) as def
     from pg_constraint c
     where c.contype = 'f' and c.conrelid::regclass::text = any($1::text[])`,
    WRITTEN.map((table) => `"${table}"`),
  );
  await sql("drop schema if exists bench_floor cascade");
  await sql("create schema bench_floor");
  for (const table of WRITTEN) {
    await sql(`create table bench_floor."${table}" (like public."${table}" including all)`);
  }
  // Unqualified references resolve to the copies first, then to public's parents.
  for (const { table, name, def } of constraints) {
    await db.prisma.$transaction([
      db.prisma.$executeRawUnsafe("set local search_path = bench_floor, public"),
      db.prisma.$executeRawUnsafe(
        `alter table bench_floor.${table} add constraint "${name}" ${def}`,
      ),
    ]);
  }
  const times: number[] = [];
  for (let i = 0; i < COPY_RUNS; i++) {
    await sql(`truncate ${WRITTEN.map((t) => `bench_floor."${t}"`).join(", ")}`);
    const started = performance.now();
    for (const table of WRITTEN) {
      await sql(
        `insert into bench_floor."${table}" select * from public."${table}"
         where "organizationId" = '${organizationId}'::uuid`,
      );
    }
    times.push((performance.now() - started) / 1000);
  }
  await sql("drop schema bench_floor cascade");
  return median(times);
}

async function copyBaseline(db: Database, file: string): Promise<number> {
  const columns = COLUMNS.split(",").map((c) => `${c} text`);
  const times: number[] = [];
  const run = async (sql: (text: string) => Promise<unknown>) => {
    await sql(`create table if not exists bench_import_copy (${columns.join(", ")})`);
    for (let i = 0; i < COPY_RUNS; i++) {
      await sql("truncate bench_import_copy");
      const started = performance.now();
      await copy();
      times.push((performance.now() - started) / 1000);
    }
    await sql("drop table bench_import_copy");
  };
  let copy: () => Promise<unknown>;
  if (db.kind === "postgres") {
    // Server-side COPY reads the file itself: the fastest way in, the hardest baseline.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    copy = () => client.query(`copy bench_import_copy from '${file}' (format csv, header true)`);
    await run((text) => client.query(text));
    await client.end();
  } else {
    const blob = new Blob([await readFile(file)]);
    copy = () =>
      db.pglite!.query("copy bench_import_copy from '/dev/blob' (format csv, header true)", [], {
        blob,
      });
    await run((text) => db.pglite!.exec(text));
  }
  return median(times);
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "optgraph-bench-import-"));
  if (serverUrl) await onServer(`create database "${scratchName}"`);
  // the database server reads the file for COPY
  await chmod(dir, 0o755);
  const file = join(dir, "consents.csv");
  const env: Record<string, string> = databaseUrl
    ? { DATABASE_URL: databaseUrl, DB_STATEMENT_TIMEOUT_MS: "600000" }
    : { OPTGRAPH_DATA_DIR: join(dir, "db") };
  const config = loadConfig({ NODE_ENV: "production", ...env });
  // Migrations run in a process of their own, as before a deploy.
  await migrate(env);
  // The import command opens the database itself (an embedded one takes one process at a time):
  // this process holds it only to set up and to check.
  const open = () => openDatabase(config.database, { migrate: false });
  let db = await open();
  try {
    console.log(`generating ${ROWS} rows (1 in ${BAD_EVERY} bad) …`);
    const badRows = await generate(file, ROWS);
    await chmod(file, 0o644);
    const bytes = (await stat(file)).size;
    const warm = await setUp(db.prisma, `bench warm-up ${Date.now()}`);
    const target = await setUp(db.prisma, `bench ${Date.now()}`);
    await db.close();

    // Warm-up: the database's caches and files, on a small file of its own.
    const warmFile = join(dir, "warm.csv");
    await generate(warmFile, Math.min(ROWS, 2000));
    await importFile(dir, env, warmFile, warm);

    console.log(`importing ${file} (${(bytes / 1e6).toFixed(1)} MB) with npm run import …`);
    let started = performance.now();
    const first = await importFile(dir, env, file, target);
    const firstWall = (performance.now() - started) / 1000;
    started = performance.now();
    const rerun = await importFile(dir, env, file, target);
    const rerunWall = (performance.now() - started) / 1000;

    db = await open();
    const jobs = await db.prisma.importJob.findMany({
      where: { id: { in: [first.jobId, rerun.jobId] } },
    });
    const firstJob = jobs.find((job) => job.id === first.jobId)!;
    const rerunJob = jobs.find((job) => job.id === rerun.jobId)!;
    const seconds = (job: typeof firstJob) =>
      (job.finishedAt!.getTime() - job.startedAt!.getTime()) / 1000;

    // Checks: every good row in the ledger once, every bad row reported, the rerun wrote nothing.
    const events = await db.prisma.$queryRaw<{ row: number }[]>`
      select (evidence->'source'->>'row')::int as row from "ConsentEvent"
      where "organizationId" = ${target.organizationId}::uuid and method = 'IMPORT'
        and evidence->'source'->>'importJobId' = ${firstJob.id}`;
    const reported = await db.prisma.importRowError.findMany({
      where: { importJobId: firstJob.id },
      select: { row: true },
    });
    const totalEvents = await db.prisma.consentEvent.count({
      where: { organizationId: target.organizationId },
    });
    const bad = new Set(badRows);
    const eventRows = new Set(events.map((e) => e.row));
    const goodCount = ROWS - bad.size;
    const problems: string[] = [];
    if (firstJob.status !== "SUCCEEDED") problems.push(`first run ${firstJob.status}`);
    if (events.length !== goodCount || eventRows.size !== goodCount)
      problems.push(`${events.length} events for ${goodCount} good rows`);
    for (const row of eventRows) if (bad.has(row)) problems.push(`bad row ${row} has an event`);
    if (reported.length !== bad.size || !reported.every((r) => bad.has(r.row)))
      problems.push(`${reported.length} rows reported, ${bad.size} bad`);
    if (rerunJob.imported !== 0 || totalEvents !== goodCount)
      problems.push(`rerun imported ${rerunJob.imported}; ${totalEvents} events in all`);
    if (rerunJob.failed !== bad.size) problems.push(`rerun reported ${rerunJob.failed} bad rows`);
    const ledger = await verifyLedger(db.prisma, target.organizationId);
    if (!ledger.ok) problems.push("the ledger does not verify");
    const peakMb = Math.max(first.peakMb, rerun.peakMb);
    // (the target is PostgreSQL's: the embedded database runs inside the import's own process)
    if (db.kind === "postgres" && !(peakMb < 200)) {
      problems.push(`the import's peak memory was ${peakMb} MB`);
    }

    console.log(`COPY of the same file, median of ${COPY_RUNS} …`);
    const copySeconds = await copyBaseline(db, file);
    console.log(`the same rows written again by the server, median of ${COPY_RUNS} …`);
    const floorSeconds = await writeFloor(db, target.organizationId);

    const importRate = ROWS / seconds(firstJob);
    const copyRate = ROWS / copySeconds;
    const result = {
      engine: db.kind,
      rows: ROWS,
      badRows: bad.size,
      batchSize: BATCH_SIZE,
      import: {
        seconds: +seconds(firstJob).toFixed(2),
        rowsPerSecond: Math.round(importRate),
        commandSeconds: +firstWall.toFixed(2),
        peakMemoryMb: first.peakMb,
      },
      rerun: {
        seconds: +seconds(rerunJob).toFixed(2),
        rowsPerSecond: Math.round(ROWS / seconds(rerunJob)),
        commandSeconds: +rerunWall.toFixed(2),
        peakMemoryMb: rerun.peakMb,
        newEvents: rerunJob.imported,
      },
      copy: { seconds: +copySeconds.toFixed(3), rowsPerSecond: Math.round(copyRate) },
      ratioToCopy: +(importRate / copyRate).toFixed(4),
      // the written rows into the same tables (indexes, foreign keys) by the server itself
      writeFloor: {
        seconds: +floorSeconds.toFixed(2),
        rowsPerSecond: Math.round(ROWS / floorSeconds),
        importRatio: +(ROWS / seconds(firstJob) / (ROWS / floorSeconds)).toFixed(3),
      },
      ratioTarget: 0.3,
      peakMemoryTargetMb: db.kind === "postgres" ? 200 : null,
      checks: problems.length === 0 ? "ok" : problems,
    };
    console.log(JSON.stringify(result, null, 2));
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await db.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    if (serverUrl) await onServer(`drop database if exists "${scratchName}" with (force)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
