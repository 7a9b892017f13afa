// An import's counters add up whatever the file holds: processed = imported + skipped + failed =
// the number of data rows, and every failed row is listed once, with every reason it failed for.
import { beforeAll, describe, expect, it } from "vitest";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { importCsv, rowId } from "./support.ts";

const HEADER = "phone,status,occurred_at";
const at = "2024-05-01T10:00:00Z";

let org: Awaited<ReturnType<typeof newOrganization>>;
let campaignId = "";

beforeAll(async () => {
  org = await newOrganization();
  campaignId = rowId((await createCampaign(org.adminKey)).id);
});

const cases: [string, string[], { imported: number; failed: number; rows: number[] }][] = [
  [
    "a good row, then one with text after its closing quote",
    [`4155550101,opted_in,${at}`, `"4155550102"x,opted_in,${at}`],
    { imported: 1, failed: 1, rows: [3] },
  ],
  [
    "a closing quote followed by text, then a good row the open quote swallows",
    [`"41555"50103,opted_in,${at}`, `4155550104,opted_in,${at}`],
    { imported: 0, failed: 2, rows: [2, 3] },
  ],
  [
    "a quote inside an unquoted field, then a good row",
    [`41555"50105,opted_in,${at}`, `4155550106,opted_in,${at}`],
    { imported: 1, failed: 1, rows: [2] },
  ],
  [
    "a quote never closed on the last row",
    [`4155550107,opted_in,${at}`, `4155550108,opted_in,"${at}`],
    { imported: 1, failed: 1, rows: [3] },
  ],
];

describe("import counters", () => {
  for (const [label, rows, expected] of cases) {
    for (const batchSize of [1, 2000]) {
      it(`add up for ${label} (batches of ${batchSize})`, async () => {
        const csv = [HEADER, ...rows].join("\n") + "\n";
        const { job, errors } = await importCsv(org.rowId, csv, { campaignId, batchSize });
        const listed = await org.prisma.importRowError.findMany({
          where: { importJobId: job.id },
          orderBy: { row: "asc" },
        });
        expect(job.status).toBe("SUCCEEDED");
        expect(job.processed).toBe(rows.length);
        expect(job.imported + job.skipped + job.failed).toBe(job.processed);
        expect(job.failed).toBe(listed.length);
        expect(listed.map((e) => e.row)).toEqual(expected.rows);
        expect(errors.map((e) => e.row)).toEqual(expected.rows);
        expect(job.failed).toBe(expected.failed);
        expect(job.imported + job.skipped).toBe(expected.imported);
        for (const error of listed) expect(error.reason).toMatch(/^csv: /);
      });
    }
  }
});
