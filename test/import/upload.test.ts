// The GraphQL path: a CSV uploaded as a multipart request starts a background import job; the job
// is read with its row errors and watched over graphql-ws until it finishes. Only ADMIN and
// OPERATOR keys may import, and another organization's jobs and campaigns read as unknown.
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import { engine, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { CreateApiKey } from "../support/documents.ts";
import { execute, newOrganization, ok } from "../support/graphql.ts";
import {
  collect,
  CSV_HEADER,
  ImportJobProgress,
  ImportJobQuery,
  ledgerOf,
  rowId,
  upload,
} from "./support.ts";

const JobNode = graphql(`
  query ImportJobNode($id: ID!) {
    node(id: $id) {
      id
      ... on ImportJob {
        status
        imported
      }
    }
  }
`);

const goodRows = (count: number) =>
  Array.from(
    { length: count },
    (_, i) =>
      `+1415${300 + Math.floor(i / 1000)}${String(i % 1000).padStart(4, "0")},opted_in,2024-01-01T00:00:00Z,WEB_FORM,,,,,`,
  );

async function jobCount(organizationId: string) {
  const app = await testApp();
  return app.db.prisma.importJob.count({ where: { organizationId } });
}

async function keyFor(
  adminKey: string,
  role: "OPERATOR" | "VIEWER" | "PARTNER",
  campaignId?: string,
) {
  const data = await ok(adminKey, CreateApiKey, {
    input: { name: role, role, campaignIds: campaignId ? [campaignId] : null },
  });
  return data.createApiKey.secret;
}

beforeAll(async () => {
  await testApp();
});

describe("importConsents", () => {
  it(
    "imports an uploaded file in the background and streams its progress to the end",
    { timeout: 180_000 },
    async () => {
      const org = await newOrganization();
      const campaign = await createCampaign(org.adminKey);
      // More than one batch, so PostgreSQL shows the job mid-way (see below); PGlite, much slower
      // per row, gets a file of one batch.
      const good = engine === "postgres" ? 250 : 30;
      const lines = goodRows(good);
      lines.splice(10, 0, "+14153001000,maybe,2024-01-01T00:00:00Z,,,,,,");
      lines.splice(20, 0, "+14153001001,opted_in,2024-01-01T00:00:00Z,SMOKE_SIGNAL,,,,,");
      const csv = [CSV_HEADER, ...lines].join("\n");

      const started = await upload(org.adminKey, csv, { campaignId: campaign.id });
      expect(started.errors).toBeUndefined();
      const job = started.data!.importConsents.importJob;
      expect(job).toMatchObject({ status: "QUEUED", fileName: "consents.csv" });

      const progress = await collect(org.adminKey, ImportJobProgress, { id: job.id });
      expect(progress.every((p) => p.errors === undefined)).toBe(true);
      const states = progress.map((p) => p.data!.importJobProgress);
      expect(states[states.length - 1]).toMatchObject({
        id: job.id,
        status: "SUCCEEDED",
        processed: good + 2,
        imported: good,
        skipped: 0,
        failed: 2,
      });
      // PGlite is one connection: the subscription's own reads queue behind the import's batches,
      // so only PostgreSQL reliably catches the job mid-way.
      if (engine === "postgres") {
        expect(states.some((s) => s.status === "RUNNING" && s.processed < good + 2)).toBe(true);
      }
      for (let i = 1; i < states.length; i++) {
        expect(states[i].processed).toBeGreaterThanOrEqual(states[i - 1].processed);
      }

      const read = await ok(org.adminKey, ImportJobQuery, { id: job.id, first: 10 });
      expect(read.importJob).toMatchObject({
        status: "SUCCEEDED",
        fileSha256: createHash("sha256").update(csv).digest("hex"),
        imported: good,
        failed: 2,
        message: null,
        errors: [
          { row: 12, reason: 'status: "maybe" is not opted_in or opted_out' },
          {
            row: 22,
            reason:
              'method: "SMOKE_SIGNAL" is not one of WEB_FORM, CHECKBOX, KEYWORD, API, IMPORT, ADMIN',
          },
        ],
      });
      expect(read.importJob!.startedAt).not.toBeNull();
      expect(read.importJob!.finishedAt).not.toBeNull();
      const page = await ok(org.adminKey, ImportJobQuery, { id: job.id, first: 1, afterRow: 12 });
      expect(page.importJob!.errors.map((e) => e.row)).toEqual([22]);

      const ledger = await ledgerOf(org.rowId);
      expect(ledger).toHaveLength(good);
      expect(ledger.every((e) => e.method === "IMPORT" && e.apiKeyId !== null)).toBe(true);
      expect(ledger[0].evidence).toMatchObject({
        source: { file: "consents.csv", row: 2, importJobId: rowId(job.id) },
      });

      // A finished job's stream gives its final state and ends; node(id) finds it too.
      const again = await collect(org.adminKey, ImportJobProgress, { id: job.id });
      expect(again.map((p) => p.data?.importJobProgress.status)).toEqual(["SUCCEEDED"]);
      const node = await ok(org.adminKey, JobNode, { id: job.id });
      expect(node.node).toMatchObject({ id: job.id, status: "SUCCEEDED", imported: good });
    },
  );

  it.each([
    [
      "a header with an unknown column",
      "phone,status,occurred_at,email\n",
      /^input\.file: header: unknown column "email"/,
    ],
    [
      "a header without occurred_at",
      "phone,status\n+14155550100,opted_in\n",
      /^input\.file: header: missing column occurred_at$/,
    ],
    ["an empty file", "", /^input\.file: is empty/],
  ])("refuses %s before starting a job", async (_name, csv, message) => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const result = await upload(org.adminKey, csv, { campaignId: campaign.id });
    expect(result.errors?.[0]).toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "input.file" },
    });
    expect(result.errors?.[0].message).toMatch(message);
    expect(await jobCount(org.rowId)).toBe(0);
  });

  it("is for ADMIN and OPERATOR keys only", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const csv = [CSV_HEADER, ...goodRows(2)].join("\n");
    const operator = await keyFor(org.adminKey, "OPERATOR");
    const byOperator = await upload(operator, csv, { campaignId: campaign.id });
    expect(byOperator.errors).toBeUndefined();
    const jobId = byOperator.data!.importConsents.importJob.id;
    const states = await collect(operator, ImportJobProgress, { id: jobId });
    expect(states[states.length - 1].data?.importJobProgress.status).toBe("SUCCEEDED");

    for (const key of [
      await keyFor(org.adminKey, "VIEWER"),
      await keyFor(org.adminKey, "PARTNER", campaign.id),
    ]) {
      const refused = await upload(key, csv, { campaignId: campaign.id });
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const read = await execute(key, ImportJobQuery, { id: jobId });
      expect(read.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const watched = await collect(key, ImportJobProgress, { id: jobId });
      expect(watched[0].errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
    expect(await jobCount(org.rowId)).toBe(1);
    const anonymous = await upload(null, csv, { campaignId: campaign.id });
    expect(anonymous.status).toBe(401);
    expect(await jobCount(org.rowId)).toBe(1);
  });

  it("reads another organization's job or campaign as unknown", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const stranger = await newOrganization();
    const csv = [CSV_HEADER, ...goodRows(1)].join("\n");
    const started = await upload(org.adminKey, csv, { campaignId: campaign.id });
    const jobId = started.data!.importConsents.importJob.id;

    expect((await ok(stranger.adminKey, ImportJobQuery, { id: jobId })).importJob).toBeNull();
    expect((await ok(stranger.adminKey, JobNode, { id: jobId })).node).toBeNull();
    const watched = await collect(stranger.adminKey, ImportJobProgress, { id: jobId });
    expect(watched[0].errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const malformed = await collect(stranger.adminKey, ImportJobProgress, { id: "nope" });
    expect(malformed[0].errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

    const foreignCampaign = await upload(stranger.adminKey, csv, { campaignId: campaign.id });
    expect(foreignCampaign.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(await jobCount(stranger.rowId)).toBe(0);
    await collect(org.adminKey, ImportJobProgress, { id: jobId });
  });
});
