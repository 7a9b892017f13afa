// A batch whose statement runs out of time (a slow or loaded database) commits nothing; the
// import tries its records again in smaller transactions, so every row still goes in exactly
// once. The slow database is a trigger that sleeps on this organization's new subscribers: the
// batch's subscribers are made by one statement, which outlasts the statement timeout (15 s) for
// three rows (the head start the import makes them with fails too, and is left to the batch). The
// test runs the import on an instance of its own with a short statement timeout.
import { Readable } from "node:stream";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { createImportJob, runImport } from "../../src/services/import.ts";
import { verifyLedger } from "../../src/services/ledger.ts";
import type { Runtime } from "../../src/services/runtime.ts";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { engine, testApp, testEnv } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { CSV_HEADER, importCsv, ledgerOf, rowId } from "./support.ts";

/** The slow test's own instance's statement timeout (the default is 15 s: the test would wait). */
const STATEMENT_TIMEOUT_MS = 4000;
/** Longer than a third of the statement timeout, shorter than half of it. */
const SLEEP_SECONDS = 1.5;

/** An instance on the run's database whose statements time out sooner than the shared one's. */
async function quickTimeoutApp(): Promise<App> {
  return startApp(loadConfig(testEnv({ DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) })), {
    logError: () => undefined,
  });
}

describe.runIf(engine === "postgres")("a slow database", () => {
  it(
    "a batch that outlasts its transaction is applied again in halves",
    { timeout: 120_000 },
    async () => {
      const org = await newOrganization();
      const campaign = await createCampaign(org.adminKey, { purpose: "INFORMATIONAL" });
      const slow = await quickTimeoutApp();
      const admin = new pg.Client({ connectionString: inject("postgresUrl") });
      await admin.connect();
      const name = `import_slow_${org.rowId.replace(/-/g, "")}`;
      await admin.query(`
      create function ${name}() returns trigger language plpgsql as $$
      begin
        if new."organizationId" = '${org.rowId}' then perform pg_sleep(${SLEEP_SECONDS}); end if;
        return new;
      end $$;
      create trigger ${name} after insert on "Subscriber" for each row execute function ${name}();`);
      try {
        const csv = [
          CSV_HEADER,
          "+14155550901,opted_in,2024-01-01T00:00:00Z,,,,,,",
          "+14155550902,opted_in,2024-01-01T00:00:00Z,,,,,,",
          "+14155550903,opted_in,2024-01-01T00:00:00Z,,,,,,",
          "not a phone,opted_in,2024-01-01T00:00:00Z,,,,,,",
        ].join("\n");
        const { job, errors } = await importCsv(org.rowId, csv, {
          campaignId: rowId(campaign.id),
          runtime: slow.runtime,
        });
        expect(job).toMatchObject({ status: "SUCCEEDED", processed: 4, imported: 3, failed: 1 });
        expect(errors.map((e) => e.row)).toEqual([5]);
        const ledger = await ledgerOf(org.rowId);
        expect(ledger.map((e) => (e.evidence as { source: { row: number } }).source.row)).toEqual([
          2, 3, 4,
        ]);
        expect(await org.prisma.importRowError.count({ where: { importJobId: job.id } })).toBe(1);
        expect(await verifyLedger(org.prisma, org.rowId)).toMatchObject({ ok: true });
      } finally {
        await admin.query(`drop trigger ${name} on "Subscriber"; drop function ${name}();`);
        await admin.end();
        await slow.stop();
      }
    },
  );

  it("a batch that cannot be written stops the job; what was committed stays and reruns resume", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey, { purpose: "INFORMATIONAL" });
    const campaignId = rowId(campaign.id);
    const admin = new pg.Client({ connectionString: inject("postgresUrl") });
    await admin.connect();
    const name = `import_poison_${org.rowId.replace(/-/g, "")}`;
    const poison = "+14155550925"; // row 26, in the third batch of ten
    await admin.query(`
      create function ${name}() returns trigger language plpgsql as $$
      begin
        if new."organizationId" = '${org.rowId}' and new.phone = '${poison}' then
          raise exception 'poisoned number';
        end if;
        return new;
      end $$;
      create trigger ${name} before insert on "Subscriber" for each row execute function ${name}();`);
    const rows = Array.from({ length: 25 }, (_, i) =>
      i === 3
        ? "not a phone,opted_in,2024-01-01T00:00:00Z,,,,,,"
        : `+141555509${String(i + 1).padStart(2, "0")},opted_in,2024-01-01T00:00:00Z,,,,,,`,
    );
    const csv = [CSV_HEADER, ...rows].join("\n");
    try {
      // An unexpected error fails the job and is thrown after the job records it.
      const app = await testApp();
      const started = await createImportJob(app.runtime, {
        organizationId: org.rowId,
        apiKeyId: null,
        fileName: "poisoned.csv",
        campaignId,
      });
      const errors: { row: number; reason: string }[] = [];
      await expect(
        runImport(app.runtime, started, Readable.from([Buffer.from(csv)]), {
          batchSize: 10,
          onRowError: (row, reason) => errors.push({ row, reason }),
        }),
      ).rejects.toThrow(/poisoned number/);
      const job = await org.prisma.importJob.findUniqueOrThrow({ where: { id: started.id } });
      expect(job.status).toBe("FAILED");
      // batches 1 and 2 (lines 2–21) committed before the third failed, with their bad row
      expect(job.message).toMatch(/rows up to line 21 are in/);
      expect(errors).toEqual([{ row: 5, reason: expect.stringMatching(/^phone:/) }]);
      const inLedger = (await ledgerOf(org.rowId)).map(
        (e) => (e.evidence as { source: { row: number } }).source.row,
      );
      expect(inLedger.slice(0, 19)).toEqual([
        2,
        3,
        4,
        ...Array.from({ length: 16 }, (_, i) => i + 6),
      ]);
      expect(inLedger).not.toContain(26);
    } finally {
      await admin.query(`drop trigger ${name} on "Subscriber"; drop function ${name}();`);
      await admin.end();
    }
    // Without the fault, the same file finishes the job: every good row once.
    const again = await importCsv(org.rowId, csv, { campaignId, batchSize: 10 });
    expect(again.job).toMatchObject({ status: "SUCCEEDED", processed: 25, failed: 1 });
    const ledger = await ledgerOf(org.rowId);
    expect(new Set(ledger.map((e) => e.subscriberId)).size).toBe(24);
    expect(ledger).toHaveLength(24);
    expect(await verifyLedger(org.prisma, org.rowId)).toMatchObject({ ok: true });
  });
});

describe("a commit whose answer is lost", () => {
  it("is recognized as committed: the job counts each row once and the ledger holds each once", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey, { purpose: "INFORMATIONAL" });
    const app = await testApp();
    let ledgerTransactions = 0;
    const runtime: Runtime = {
      ...app.runtime,
      // The second batch's transaction commits, then its connection is "lost" before the answer.
      // (Ledger transactions are the ones with a deadline.)
      transaction: async (work, options) => {
        const result = await app.runtime.transaction(work, options);
        if (options?.timeoutMs !== undefined && ++ledgerTransactions === 2) {
          throw new Error("Connection terminated unexpectedly");
        }
        return result;
      },
    };
    const rows = Array.from({ length: 12 }, (_, i) =>
      i === 1
        ? "not a phone,opted_in,2024-01-01T00:00:00Z,,,,,,"
        : `+141555508${String(i + 10).padStart(2, "0")},opted_in,2024-01-01T00:00:00Z,,,,,,`,
    );
    const { job: done, errors } = await importCsv(org.rowId, [CSV_HEADER, ...rows].join("\n"), {
      campaignId: rowId(campaign.id),
      fileName: "lost.csv",
      batchSize: 5,
      runtime,
    });
    expect(ledgerTransactions).toBe(3);
    expect(done).toMatchObject({
      status: "SUCCEEDED",
      processed: 12,
      imported: 11,
      skipped: 0,
      failed: 1,
    });
    expect(errors.map((e) => e.row)).toEqual([3]);
    expect(await ledgerOf(org.rowId)).toHaveLength(11);
    expect(await verifyLedger(org.prisma, org.rowId)).toMatchObject({
      ok: true,
      eventsChecked: 11,
    });
  });
});
