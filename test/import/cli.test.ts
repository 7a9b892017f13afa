// `npm run import` as an operator runs it: a real process on the database the service uses
// (PostgreSQL through DATABASE_URL, or a PGlite data directory), an error file of row,reason, an
// exit code that tells whether rows were bad, and a rerun that imports nothing twice.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import type { Actor } from "../../src/domain/api-key.ts";
import { createCampaign, setCampaignStatus } from "../../src/services/campaigns.ts";
import { createSender } from "../../src/services/senders.ts";
import type { Prisma } from "../../src/db/client.ts";
import { embeddedDataDir, engine, onceAcrossEngines, testApp, testEnv } from "../support/app.ts";
import { disclosures, uniqueLongCode } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { CSV_HEADER, globalId } from "./support.ts";

const ROOT = new URL("../../", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "optgraph-import-cli-"));
// a data directory of its own, started from the run's migrated template on PGlite
const dataDir = engine === "pglite" ? embeddedDataDir() : join(dir, "db");

/** The environment the command runs in: the test run's PostgreSQL, or a data directory of its own. */
const cliEnv = () =>
  engine === "postgres" ? { DATABASE_URL: inject("postgresUrl") } : { OPTGRAPH_DATA_DIR: dataDir };

/** `npm run import -- …args`: the command an operator runs, built and started as they get it. */
function runImport(args: string[]) {
  const child = spawn("npm", ["run", "--silent", "import", "--", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? tmpdir(),
      NODE_ENV: "test",
      ...cliEnv(),
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })),
  );
}

async function campaignIn(prisma: Prisma, organizationId: string) {
  const actor: Actor = {
    apiKeyId: "",
    organizationId,
    role: "ADMIN",
    campaignIds: null,
    isPlatform: false,
  };
  const sender = await createSender(
    prisma,
    actor,
    { address: uniqueLongCode(), kind: "LONG_CODE" },
    "US",
  );
  const campaign = await createCampaign(prisma, actor, {
    name: "Loyalty club",
    purpose: "MARKETING",
    senderId: sender.id,
    disclosures: { termsUrl: null, privacyUrl: null, ...disclosures() },
  });
  await setCampaignStatus(prisma, actor, { id: campaign.id, status: "ACTIVE" });
}

let organizationArgs: string[] = [];
let organizationId = "";
/** Reads the database the command wrote to. */
let inspect: <T>(work: (prisma: Prisma) => Promise<T>) => Promise<T>;

beforeAll(async () => {
  if (engine === "postgres") {
    const app = await testApp();
    const org = await newOrganization();
    organizationId = org.rowId;
    organizationArgs = ["--organization", org.id];
    await campaignIn(app.db.prisma, org.rowId);
    inspect = (work) => work(app.db.prisma);
  } else {
    // A data directory of its own, with its default organization, as `npm start` leaves it.
    const app = await startApp(loadConfig(testEnv({ OPTGRAPH_DATA_DIR: dataDir })));
    const org = await app.db.prisma.organization.findFirstOrThrow();
    organizationId = org.id;
    await campaignIn(app.db.prisma, org.id);
    await app.stop();
    inspect = async (work) => {
      const db: Database = await openDatabase({ kind: "pglite", dataDir }, { migrate: false });
      try {
        return await work(db.prisma);
      } finally {
        await db.close();
      }
    };
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(
  "imports a file with a progress summary, writes the bad rows to the error file, and reruns to nothing",
  { timeout: 180_000 },
  async () => {
    const file = join(dir, "members.csv");
    const errors = join(dir, "members-errors.csv");
    writeFileSync(
      file,
      [
        CSV_HEADER,
        "+14155550800,opted_in,2024-01-01T00:00:00Z,WEB_FORM,,203.0.113.1,,,",
        "+1415555080,opted_in,2024-01-01T00:00:00Z,WEB_FORM,,,,,",
        "+14155550802,opted_in,2024-01-01T00:00:00Z,CHECKBOX,,,,,",
        "+14155550803,unsubscribed,2024-01-01T00:00:00Z,,,,,,",
        "+14155550800,opted_out,2024-02-01T00:00:00Z,KEYWORD,,,,,",
        "",
      ].join("\n"),
    );
    const args = [file, "--campaign", "Loyalty club", "--errors", errors, ...organizationArgs];

    const first = await runImport(args);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(2);
    expect(first.stdout).toMatch(
      /SUCCEEDED — 5 rows in .* s \(\d+ rows\/s\): 3 imported, 0 skipped, 2 bad/,
    );
    expect(first.stdout).toContain(`bad rows: ${errors}`);
    const jobId = /import job (\S+)/.exec(first.stdout)![1];
    expect(parse(readFileSync(errors, "utf8"))).toEqual([
      ["row", "reason"],
      ["3", 'phone: "+1415555080" is not a valid phone number'],
      ["5", 'status: "unsubscribed" is not opted_in or opted_out'],
    ]);

    const events = () =>
      inspect((prisma) =>
        prisma.consentEvent.findMany({ where: { organizationId }, orderBy: { sequence: "asc" } }),
      );
    const again = await runImport(args);
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/0 imported, 3 skipped, 2 bad/);

    // What the first run wrote, and all there is after the second.
    const written = await events();
    expect(written.map((e) => [e.method, e.toStatus, (e.evidence as any).source])).toEqual([
      [
        "IMPORT",
        "OPTED_IN",
        {
          file: "members.csv",
          row: 2,
          importJobId: Buffer.from(jobId, "base64").toString().split(":")[1],
        },
      ],
      ["IMPORT", "OPTED_IN", expect.objectContaining({ row: 4 })],
      ["IMPORT", "OPTED_OUT", expect.objectContaining({ row: 6 })],
    ]);
  },
);

// what it refuses does not depend on the database: once, the four commands at once
it.runIf(onceAcrossEngines)(
  "stops with one line for an unknown campaign, organization or file",
  { timeout: 180_000 },
  async () => {
    const file = join(dir, "one.csv");
    writeFileSync(file, `${CSV_HEADER}\n+14155550810,opted_in,2024-01-01T00:00:00Z,,,,,,\n`);
    const cases: [string[], RegExp][] = [
      [
        [file, "--campaign", "Nope", ...organizationArgs],
        /^import: --campaign: no campaign "Nope" in /,
      ],
      [
        [file, "--organization", globalId("Organization", "0190a000-0000-7000-8000-000000000000")],
        /^import: --organization: no organization /,
      ],
      [[join(dir, "missing.csv"), ...organizationArgs], /^import: cannot read .*missing\.csv/],
      [[], /^import: usage: npm run import -- <file\.csv>/],
    ];
    const count = () =>
      inspect((prisma) => prisma.consentEvent.count({ where: { organizationId } }));
    const before = await count();
    const results = await Promise.all(cases.map(([args]) => runImport(args)));
    for (const [i, [args, message]] of cases.entries()) {
      expect(results[i].code, args.join(" ")).toBe(1);
      expect(results[i].stderr.trim()).toMatch(message);
      expect(results[i].stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(await count()).toBe(before);
  },
);
