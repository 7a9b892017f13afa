// A batch whose statement runs out of time (a slow or loaded database) commits nothing; the
// import tries its records again in smaller transactions, so every row still goes in exactly
// once. The slow database is a trigger that sleeps on this organization's new subscribers: the
// batch's subscribers are made by one statement, which outlasts the statement timeout (15 s) for
// three rows (the head start the import makes them with fails too, and is left to the batch).
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { verifyLedger } from "../../src/services/ledger.ts";
import { engine } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { CSV_HEADER, importCsv, ledgerOf, rowId } from "./support.ts";

/** Longer than a third of the 15 s statement timeout, shorter than half of it. */
const SLEEP_SECONDS = 7;

describe.runIf(engine === "postgres")("a slow database", () => {
  it(
    "a batch that outlasts its transaction is applied again in halves",
    { timeout: 120_000 },
    async () => {
      const org = await newOrganization();
      const campaign = await createCampaign(org.adminKey, { purpose: "INFORMATIONAL" });
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
        const { job, errors } = await importCsv(org.rowId, csv, { campaignId: rowId(campaign.id) });
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
      }
    },
  );
});
