// The consent import through its service, as the command line and the GraphQL job run it: every
// row either writes one IMPORT ledger event (with its file and row as evidence) or is reported
// with its row and reason; a rerun applies nothing twice; an opt-out in the file always wins over
// an older opt-in; a re-added number waits for confirmation.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { createImportJob, runImport, watchImportJob } from "../../src/services/import.ts";
import { verifyLedger } from "../../src/services/ledger.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization, ok, rowCounts } from "../support/graphql.ts";
import { testApp } from "../support/app.ts";
import { consentOf, CSV_HEADER, importCsv, ledgerOf, rowId } from "./support.ts";
import { OptIn, OptOut, SetCampaignStatus } from "../support/documents.ts";

const row = (...fields: string[]) => fields.join(",");

async function setUp() {
  const org = await newOrganization();
  const campaign = await createCampaign(org.adminKey, { name: "Spring deals" });
  return { org, campaign, campaignId: rowId(campaign.id) };
}

beforeAll(async () => {
  await testApp();
});

describe("bad rows", () => {
  it("reports each kind with its row and reason, and writes nothing for it", async () => {
    const { org, campaignId } = await setUp();
    const archived = await createCampaign(org.adminKey, { name: "Old program" });
    await ok(org.adminKey, SetCampaignStatus, { input: { id: archived.id, status: "ARCHIVED" } });
    const at = "2024-01-01T10:00:00Z";
    const csv = [
      CSV_HEADER,
      row(
        "+14155550100",
        "opted_in",
        at,
        "WEB_FORM",
        "",
        "203.0.113.5",
        "Mozilla/5.0",
        "https://acme.example/join",
        '"I agree, send me texts"',
      ),
      row("12345", "opted_in", at, "", "", "", "", "", ""),
      row("", "opted_in", at, "", "", "", "", "", ""),
      row("+14155550103", "subscribed", at, "", "", "", "", "", ""),
      row("+14155550104", "", at, "", "", "", "", "", ""),
      row("+14155550105", "opted_in", "yesterday", "", "", "", "", "", ""),
      row("+14155550106", "opted_in", "2024-01-01T10:00:00", "", "", "", "", "", ""),
      row("+14155550107", "opted_in", "2999-01-01T00:00:00Z", "", "", "", "", "", ""),
      row("+14155550108", "opted_in", at, "FAX", "", "", "", "", ""),
      row("+14155550109", "opted_in", at, "", "Nope", "", "", "", ""),
      row("+14155550110", "opted_in", at, "", "", "999.1.1.1", "", "", ""),
      row("+14155550111", "opted_in", at, "", "", "", "x".repeat(1001), "", ""),
      row("+14155550112", "opted_in", at, "", "", "", "", "ftp://acme.example/join", ""),
      row("+14155550113", "opted_in", at, "", "", "", "", "", "y".repeat(4001)),
      row("+14155550114", "opted_in"),
      row("+14155550115", "opted_in", at, "", "", "", "bad\u0000agent", "", ""),
      row("+14155550116", "opted_in", at, "", "Old program", "", "", "", ""),
      row("+14155550117", "opted_out", at, "KEYWORD", "", "", "", "", ""),
      row("+14155550118", "opted_in", at, "API", "", "1.2.3.4", 'x"y', "", ""),
      row("+14155550119", "opted_in", at, "", "", "", "", "", ""),
    ].join("\n");
    const before = await rowCounts(org.rowId);

    const { job, errors } = await importCsv(org.rowId, csv, { campaignId });

    const expected: [number, RegExp][] = [
      [3, /^phone: "12345" is not a (valid )?phone number$/],
      [4, /^phone: a phone number is required$/],
      [5, /^status: "subscribed" is not opted_in or opted_out$/],
      [6, /^status: is required$/],
      [7, /^occurred_at: "yesterday" is not an ISO 8601 date and time/],
      [8, /^occurred_at: "2024-01-01T10:00:00" has no time zone/],
      [9, /^occurred_at: 2999-01-01T00:00:00.000Z is in the future$/],
      [10, /^method: "FAX" is not one of WEB_FORM, CHECKBOX, KEYWORD, API, IMPORT, ADMIN$/],
      [11, /^campaign: no campaign "Nope" in this organization$/],
      [12, /^ip: "999.1.1.1" is not an IP address$/],
      [13, /^user_agent: must be at most 1000 characters$/],
      [14, /^source_url: "ftp:\/\/acme.example\/join" is not an http\(s\) URL$/],
      [15, /^consent_text: must be at most 4000 characters$/],
      [16, /^row has 2 fields; the header has 9$/],
      [17, /^user_agent: contains a NUL character$/],
      [18, /^campaign: "Old program" is archived and takes no opt-ins$/],
      [20, /^csv: Invalid Opening Quote/],
    ];
    expect(errors.map((e) => e.row)).toEqual(expected.map(([r]) => r));
    for (const [i, [, reason]] of expected.entries()) expect(errors[i].reason).toMatch(reason);
    const stored = await org.prisma.importRowError.findMany({
      where: { importJobId: job.id },
      orderBy: { row: "asc" },
    });
    expect(stored.map(({ row, reason }) => ({ row, reason }))).toEqual(errors);
    expect(job).toMatchObject({
      status: "SUCCEEDED",
      processed: 20,
      imported: 3,
      skipped: 0,
      failed: expected.length,
      message: null,
    });

    // Only the three good rows changed anything: no subscriber for any bad row's number.
    const after = await rowCounts(org.rowId);
    expect(after).toEqual({
      ...before,
      subscribers: before.subscribers + 3,
      consents: before.consents + 3,
      consentEvents: before.consentEvents + 3,
    });
    const phones = await org.prisma.subscriber.findMany({
      where: { organizationId: org.rowId },
      select: { phone: true },
      orderBy: { phone: "asc" },
    });
    expect(phones.map((s) => s.phone)).toEqual(["+14155550100", "+14155550117", "+14155550119"]);
  });

  it.each([
    ["a missing column", "phone,status", "header: missing column occurred_at"],
    [
      "an unknown column",
      "phone,status,occurred_at,email",
      'header: unknown column "email" (the columns are phone, status, occurred_at, method, campaign, ip, user_agent, source_url, consent_text, timezone, state, locale)',
    ],
    ["a repeated column", "phone,status,occurred_at,Phone", 'header: column "phone" appears twice'],
    ["no header at all", "", "file: is empty: a header row is required"],
    [
      "a header the CSV parser cannot read",
      'phone,sta"tus,occurred_at',
      'header: csv: Invalid Opening Quote: a quote is found on field 1 at line 1, value is "sta"',
    ],
  ])("fails the job on %s in the header, writing nothing", async (_name, header, message) => {
    const { org, campaignId } = await setUp();
    const before = await rowCounts(org.rowId);
    const csv = header === "" ? "" : `${header}\n+14155550100,opted_in,2024-01-01T10:00:00Z\n`;
    const { job, errors } = await importCsv(org.rowId, csv, { campaignId });
    expect(job).toMatchObject({ status: "FAILED", message, processed: 0, imported: 0 });
    expect(job.finishedAt).not.toBeNull();
    expect(errors).toEqual([]);
    expect(await rowCounts(org.rowId)).toEqual(before);
  });

  it("reports a row without a campaign when the import names no default one", async () => {
    const { org } = await setUp();
    const csv = `${CSV_HEADER}\n${row("+14155550100", "opted_in", "2024-01-01T10:00:00Z", "", "", "", "", "", "")}`;
    const { job, errors } = await importCsv(org.rowId, csv);
    expect(errors).toEqual([
      { row: 2, reason: "campaign: is empty, and the import names no default campaign" },
    ]);
    expect(job).toMatchObject({ status: "SUCCEEDED", imported: 0, failed: 1 });
  });
});

describe("rerun", () => {
  it("applies nothing twice, whatever happened in between and however the file is named", async () => {
    const { org, campaign, campaignId } = await setUp();
    const lines = [
      row("+14155550200", "opted_in", "2024-01-01T10:00:00Z", "WEB_FORM", "", "", "", "", ""),
      row("+14155550201", "opted_in", "2024-01-01T10:00:00Z", "CHECKBOX", "", "", "", "", ""),
      row("+14155550201", "opted_out", "2024-02-01T10:00:00Z", "KEYWORD", "", "", "", "", ""),
      row("+14155550202", "opted_out", "2024-01-01T10:00:00Z", "KEYWORD", "", "", "", "", ""),
      row("+14155550202", "opted_in", "2024-03-01T10:00:00Z", "WEB_FORM", "", "", "", "", ""),
      row("+14155550203", "opted_in", "2024-01-01T10:00:00Z", "", "Spring deals", "", "", "", ""),
      row("not a phone", "opted_in", "2024-01-01T10:00:00Z", "", "", "", "", "", ""),
    ];
    const csv = [CSV_HEADER, ...lines].join("\n");
    const first = await importCsv(org.rowId, csv, { campaignId, batchSize: 3 });
    expect(first.job).toMatchObject({ imported: 6, skipped: 0, failed: 1 });
    const events = (await ledgerOf(org.rowId)).length;
    expect(events).toBe(6);

    // Live changes in between: the subscriber re-joins, another one stops.
    await ok(org.adminKey, OptOut, {
      input: { phone: "+14155550200", campaignId: campaign.id, method: "KEYWORD" },
    });
    await ok(org.adminKey, OptIn, {
      input: { phone: "+14155550201", campaignId: campaign.id, method: "WEB_FORM" },
    });
    const withLive = (await ledgerOf(org.rowId)).length;

    const again = await importCsv(org.rowId, csv, { campaignId, batchSize: 3 });
    expect(again.job).toMatchObject({ status: "SUCCEEDED", imported: 0, skipped: 6, failed: 1 });
    const renamed = [CSV_HEADER, ...lines.slice().reverse()].join("\n");
    const other = await importCsv(org.rowId, renamed, { campaignId, fileName: "export-2.csv" });
    expect(other.job).toMatchObject({ imported: 0, skipped: 6, failed: 1 });
    expect((await ledgerOf(org.rowId)).length).toBe(withLive);
    expect(await verifyLedger(org.prisma, org.rowId)).toMatchObject({ ok: true });
  });

  it("counts a record repeated within the file once", async () => {
    const { org, campaignId } = await setUp();
    const line = row("+14155550210", "opted_in", "2024-01-01T10:00:00Z", "API", "", "", "", "", "");
    const { job } = await importCsv(org.rowId, [CSV_HEADER, line, line, line].join("\n"), {
      campaignId,
    });
    expect(job).toMatchObject({ imported: 1, skipped: 2, failed: 0 });
    expect(await ledgerOf(org.rowId)).toHaveLength(1);
  });
});

describe("ordering", () => {
  const optIn = (phone: string, at: string) =>
    row(phone, "opted_in", at, "WEB_FORM", "", "", "", "", "");
  const optOut = (phone: string, at: string) =>
    row(phone, "opted_out", at, "KEYWORD", "", "", "", "", "");

  it.each([
    ["later in the file, same batch", 100],
    ["later in the file, another batch", 1],
  ])("an opt-out wins over an older opt-in written %s", async (_name, batchSize) => {
    const { org, campaignId } = await setUp();
    const phone = "+14155550300";
    const csv = [
      CSV_HEADER,
      optOut(phone, "2024-02-01T00:00:00Z"),
      optIn(phone, "2024-01-01T00:00:00Z"),
    ].join("\n");
    const { job } = await importCsv(org.rowId, csv, { campaignId, batchSize });
    expect((await consentOf(org.rowId, phone, campaignId))?.status).toBe("OPTED_OUT");
    const ledger = await ledgerOf(org.rowId);
    expect(ledger[ledger.length - 1]).toMatchObject({
      toStatus: "OPTED_OUT",
      occurredAt: new Date("2024-02-01T00:00:00Z"),
    });
    expect(job.failed).toBe(0);
    expect(job.imported + job.skipped).toBe(2);
  });

  it("an opt-out wins over an opt-in at the same instant", async () => {
    const { org, campaignId } = await setUp();
    const phone = "+14155550301";
    const at = "2024-01-01T00:00:00Z";
    await importCsv(org.rowId, [CSV_HEADER, optOut(phone, at), optIn(phone, at)].join("\n"), {
      campaignId,
    });
    expect((await consentOf(org.rowId, phone, campaignId))?.status).toBe("OPTED_OUT");
  });

  it("an opt-in older than a live opt-out changes nothing", async () => {
    const { org, campaign, campaignId } = await setUp();
    const phone = "+14155550302";
    await ok(org.adminKey, OptOut, {
      input: { phone, campaignId: campaign.id, method: "KEYWORD" },
    });
    const events = (await ledgerOf(org.rowId)).length;
    const { job } = await importCsv(
      org.rowId,
      [CSV_HEADER, optIn(phone, "2024-01-01T00:00:00Z")].join("\n"),
      { campaignId },
    );
    expect(job).toMatchObject({ imported: 0, skipped: 1 });
    expect((await ledgerOf(org.rowId)).length).toBe(events);
    expect((await consentOf(org.rowId, phone, campaignId))?.status).toBe("OPTED_OUT");
  });

  it("a newer opt-in of a number that opted out waits for its confirmation (PENDING)", async () => {
    const { org, campaignId } = await setUp();
    const phone = "+14155550303";
    const csv = [
      CSV_HEADER,
      optIn(phone, "2024-03-01T00:00:00Z"),
      optOut(phone, "2024-02-01T00:00:00Z"),
      optIn(phone, "2024-01-01T00:00:00Z"),
    ].join("\n");
    const { job } = await importCsv(org.rowId, csv, { campaignId });
    const consent = await consentOf(org.rowId, phone, campaignId);
    expect(consent).toMatchObject({ status: "PENDING", method: "IMPORT" });
    expect(consent?.expiresAt).not.toBeNull();
    const ledger = await ledgerOf(org.rowId);
    expect(ledger.map((e) => e.toStatus)).toEqual(["OPTED_IN", "OPTED_OUT", "PENDING"]);
    expect(job).toMatchObject({ imported: 3, skipped: 0 });
  });
});

describe("evidence", () => {
  it("each event carries its file, row, original method and evidence, with method IMPORT", async () => {
    const { org, campaignId } = await setUp();
    const csv = [
      CSV_HEADER,
      row(
        "+14155550400",
        "opted_in",
        "2023-06-01T12:30:00-04:00",
        "web_form",
        "",
        "2001:db8::1",
        "Mozilla/5.0 (X11)",
        "https://acme.example/join?src=ad",
        '"By entering your number, you agree ""to texts""."',
      ),
      row("(415) 555-0401", "OPTED_OUT", "2023-06-02T08:00:00Z", "", "", "", "", "", ""),
    ].join("\r\n");
    const { job } = await importCsv(org.rowId, csv, { campaignId, fileName: "crm export.csv" });
    const [optIn, optOut] = await ledgerOf(org.rowId);
    expect(optIn).toMatchObject({
      method: "IMPORT",
      toStatus: "OPTED_IN",
      occurredAt: new Date("2023-06-01T16:30:00Z"),
      apiKeyId: null,
    });
    expect(optIn.evidence).toEqual({
      source: { file: "crm export.csv", row: 2, importJobId: job.id },
      originalMethod: "WEB_FORM",
      ip: "2001:db8::1",
      userAgent: "Mozilla/5.0 (X11)",
      pageUrl: "https://acme.example/join?src=ad",
      consentText: 'By entering your number, you agree "to texts".',
      // 2023: before the campaign's first disclosures, and the evidence says so
      consentLanguage: {
        version: null,
        note: "no disclosures of this campaign were in force at 2023-06-01T16:30:00.000Z",
      },
    });
    expect(optOut).toMatchObject({ method: "IMPORT", toStatus: "OPTED_OUT" });
    expect(optOut.evidence).toEqual({
      source: { file: "crm export.csv", row: 3, importJobId: job.id },
      originalMethod: "IMPORT",
      scope: "CAMPAIGN",
    });
    const records = await org.prisma.importedRecord.findMany({
      where: { importJobId: job.id },
      orderBy: { row: "asc" },
    });
    expect(records.map((r) => [r.row, r.consentEventId])).toEqual([
      [2, optIn.id],
      [3, optOut.id],
    ]);
    expect(job.fileSha256).toBe(createHash("sha256").update(csv).digest("hex"));
  });

  it("names campaigns by name, global id or database id, else uses the default", async () => {
    const { org, campaign, campaignId } = await setUp();
    const second = await createCampaign(org.adminKey, { name: "Second, with a comma" });
    const at = "2024-01-01T00:00:00Z";
    const csv = [
      CSV_HEADER,
      row("+14155550410", "opted_in", at, "", "", "", "", "", ""),
      row("+14155550411", "opted_in", at, "", '"Second, with a comma"', "", "", "", ""),
      row("+14155550412", "opted_in", at, "", second.id, "", "", "", ""),
      row("+14155550413", "opted_in", at, "", rowId(second.id), "", "", "", ""),
      row("+14155550414", "opted_in", at, "", campaign.name, "", "", "", ""),
    ].join("\n");
    const { job } = await importCsv(org.rowId, csv, { campaignId });
    expect(job).toMatchObject({ imported: 5, failed: 0 });
    const ledger = await ledgerOf(org.rowId);
    expect(ledger.map((e) => e.campaignId)).toEqual([
      campaignId,
      rowId(second.id),
      rowId(second.id),
      rowId(second.id),
      campaignId,
    ]);
  });

  it("keeps the job's counters equal to the ledger, batch after batch", async () => {
    const { org, campaignId } = await setUp();
    const lines = Array.from({ length: 9 }, (_, i) =>
      row(`+1415555050${i}`, "opted_in", `2024-01-0${i + 1}T00:00:00Z`, "", "", "", "", "", ""),
    );
    const { job } = await importCsv(org.rowId, [CSV_HEADER, ...lines, "bad,row"].join("\n"), {
      campaignId,
      batchSize: 2,
    });
    expect(job).toMatchObject({ processed: 10, imported: 9, failed: 1, status: "SUCCEEDED" });
    const ledger = await ledgerOf(org.rowId);
    expect(ledger.filter((e) => (e.evidence as any)?.source?.importJobId === job.id)).toHaveLength(
      job.imported,
    );
    expect(await verifyLedger(org.prisma, org.rowId)).toMatchObject({ ok: true, eventsChecked: 9 });
  });
});

describe("progress", () => {
  it("a watcher sees the job queued, then each committed batch, then finished", async () => {
    const { org, campaignId } = await setUp();
    const app = await testApp();
    const job = await createImportJob(app.runtime, {
      organizationId: org.rowId,
      apiKeyId: null,
      fileName: "watched.csv",
      campaignId,
    });
    const watcher = watchImportJob(app.runtime, org.rowId, job.id);
    const states = [(await watcher.next()).value];
    const lines = Array.from({ length: 7 }, (_, i) =>
      row(`+1415555060${i}`, "opted_in", "2024-01-01T00:00:00Z", "", "", "", "", "", ""),
    );
    const running = runImport(
      app.runtime,
      job,
      Readable.from([[CSV_HEADER, ...lines].join("\n")]),
      {
        batchSize: 2,
      },
    );
    for await (const state of watcher) states.push(state);
    await running;
    expect(states.map((s) => [s.status, s.processed])).toEqual([
      ["QUEUED", 0],
      ["RUNNING", 0],
      ["RUNNING", 2],
      ["RUNNING", 4],
      ["RUNNING", 6],
      ["RUNNING", 7],
      ["SUCCEEDED", 7],
    ]);
  });

  it("a watcher that is left stops listening", async () => {
    const { org, campaignId } = await setUp();
    const app = await testApp();
    const job = await createImportJob(app.runtime, {
      organizationId: org.rowId,
      apiKeyId: null,
      fileName: "left.csv",
      campaignId,
    });
    const watcher = watchImportJob(app.runtime, org.rowId, job.id);
    expect((await watcher.next()).value).toMatchObject({ status: "QUEUED" });
    const pending = watcher.next();
    await watcher.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(await watcher.next()).toEqual({ value: undefined, done: true });
  });
});
