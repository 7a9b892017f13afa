// Exports: the audience CSV (GET /exports/audience.csv) and the audience connection are, row for
// row, what canSendMany allows for the same numbers at the same time; the evidence file (GET
// /exports/subscribers/<id>/evidence.json and subscriberEvidence) holds the subscriber's whole
// record with verifiable hashes. Both need an API key and keep to the caller's organization.
import { get as httpGet } from "node:http";
import { parse } from "csv-parse/sync";
import { beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE_PAGE, audiencePage, type AudiencePage } from "../../src/services/audience.ts";
import { graphql } from "../generated/gql.ts";
import type { ImportAudienceQuery, ImportAudienceQueryVariables } from "../generated/graphql.ts";
import { engine, testApp } from "../support/app.ts";
import { createCampaign, createSender, disclosures } from "../support/fixtures.ts";
import { execute, newOrganization, ok } from "../support/graphql.ts";
import {
  CanSendMany,
  CreateApiKey,
  OptIn,
  ReceiveInboundMessage,
  RevokeApiKey,
  UpdateCampaign,
} from "../support/documents.ts";
import { CSV_HEADER, globalId, importCsv, rowId } from "./support.ts";

const Audience = graphql(`
  query ImportAudience($campaignId: ID!, $at: DateTime, $first: Int, $after: String) {
    audience(campaignId: $campaignId, at: $at, first: $first, after: $after) {
      edges {
        cursor
        node {
          phone
          allowed
          reason
          consent {
            id
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const Evidence = graphql(`
  query ImportSubscriberEvidence($id: ID, $phone: String) {
    subscriberEvidence(id: $id, phone: $phone)
  }
`);

/**
 * A GET on a connection of its own: PGlite runs on this thread, and a long import can hold the
 * event loop past a pooled keep-alive socket's expiry, which fetch would then reuse.
 */
async function get(path: string, key: string | null): Promise<Response> {
  const app = await testApp();
  return new Promise((resolve, reject) => {
    const request = httpGet(
      {
        host: "127.0.0.1",
        port: app.server.port,
        path,
        agent: false,
        headers: key ? { authorization: `Bearer ${key}` } : {},
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === "string") headers.set(name, value);
          }
          resolve(new Response(Buffer.concat(chunks), { status: response.statusCode, headers }));
        });
      },
    );
    request.on("error", reject);
  });
}

async function audienceCsv(key: string, campaignId: string, at: string) {
  const response = await get(
    `/exports/audience.csv?campaignId=${encodeURIComponent(campaignId)}&at=${encodeURIComponent(at)}`,
    key,
  );
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
  const rows = parse(await response.text()) as string[][];
  expect(rows[0]).toEqual([
    "phone",
    "subscriber_id",
    "consent_id",
    "consent_method",
    "consent_updated_at",
  ]);
  return rows.slice(1);
}

/** What canSendMany allows, asked for every subscriber of the organization in id order. */
async function allowedByCanSendMany(
  organization: { rowId: string; adminKey: string },
  campaignId: string,
  at: string,
) {
  const app = await testApp();
  const subscribers = await app.db.prisma.subscriber.findMany({
    where: { organizationId: organization.rowId },
    orderBy: { id: "asc" },
  });
  const data = await ok(organization.adminKey, CanSendMany, {
    phones: subscribers.map((s) => s.phone),
    campaignId,
    at,
  });
  return data.canSendMany.flatMap((decision, i) =>
    decision.allowed
      ? [[decision.phone, globalId("Subscriber", subscribers[i].id), decision.consent!.id]]
      : [],
  );
}

const line = (phone: string, status: string, at: string) =>
  `${phone},${status},${at},WEB_FORM,,,,,`;

/** Numbers in New York, California, Texas, Florida and Illinois in every consent state. */
async function audienceFixture() {
  const org = await newOrganization();
  const campaign = await createCampaign(org.adminKey, { purpose: "MARKETING" });
  const other = await createCampaign(org.adminKey, { purpose: "MARKETING" });
  const areas = ["212", "415", "512", "305", "312"];
  const lines: string[] = [];
  areas.forEach((area, a) => {
    for (let i = 0; i < 4; i++) {
      const phone = `+1${area}55501${a}${i}`;
      lines.push(line(phone, "opted_in", "2024-01-01T00:00:00Z"));
      if (i === 1) lines.push(line(phone, "opted_out", "2024-02-01T00:00:00Z"));
      if (i === 2) {
        lines.push(line(phone, "opted_out", "2024-02-01T00:00:00Z"));
        lines.push(line(phone, "opted_in", "2024-03-01T00:00:00Z"));
      }
    }
  });
  const { job } = await importCsv(org.rowId, [CSV_HEADER, ...lines].join("\n"), {
    campaignId: rowId(campaign.id),
  });
  expect(job).toMatchObject({ failed: 0, status: "SUCCEEDED" });
  // someone only in the other campaign
  await importCsv(
    org.rowId,
    `${CSV_HEADER}\n${line("+12125550199", "opted_in", "2024-01-01T00:00:00Z")}`,
    {
      campaignId: rowId(other.id),
    },
  );
  return { org, campaign, other };
}

beforeAll(async () => {
  await testApp();
});

describe("audience", () => {
  it("the CSV equals, row for row, what canSendMany allows at that time", async () => {
    const { org, campaign } = await audienceFixture();
    const seen = new Set<string>();
    // midday everywhere; 20:30 in Florida (its rule closes at 20:00); late evening in the east
    for (const at of ["2024-06-05T18:30:00Z", "2024-06-06T00:30:00Z", "2024-06-06T03:30:00Z"]) {
      const rows = await audienceCsv(org.adminKey, campaign.id, at);
      const expected = await allowedByCanSendMany(org, campaign.id, at);
      expect(rows.map((r) => r.slice(0, 3))).toEqual(expected);
      for (const r of rows) expect(r[3]).toBe("IMPORT");
      seen.add(rows.map((r) => r[0]).join());
    }
    // Quiet hours made the times differ; the first one lets every opted-in number through.
    expect(seen.size).toBe(3);
    const midday = await audienceCsv(org.adminKey, campaign.id, "2024-06-05T18:30:00Z");
    expect(midday).toHaveLength(10);
  });

  // Filling more than one page takes AUDIENCE_PAGE opt-ins: seconds on PostgreSQL, minutes on
  // PGlite. The keyset walk itself is checked on both engines below.
  it.runIf(engine === "postgres")(
    "pages through more subscribers than one canSendMany call reads, in order, once each",
    { timeout: 180_000 },
    async () => {
      const org = await newOrganization();
      const campaign = await createCampaign(org.adminKey, { purpose: "INFORMATIONAL" });
      const count = AUDIENCE_PAGE + 20;
      const lines = Array.from({ length: count }, (_, i) =>
        line(
          `+1415${200 + Math.floor(i / 1000)}${String(i % 1000).padStart(4, "0")}`,
          "opted_in",
          "2024-01-01T00:00:00Z",
        ),
      );
      const { job } = await importCsv(org.rowId, [CSV_HEADER, ...lines].join("\n"), {
        campaignId: rowId(campaign.id),
      });
      expect(job.imported).toBe(count);
      const at = "2024-06-05T03:00:00Z";
      const rows = await audienceCsv(org.adminKey, campaign.id, at);
      expect(rows).toHaveLength(count);
      expect(rows.map((r) => r.slice(0, 3))).toEqual(
        await allowedByCanSendMany(org, campaign.id, at),
      );
    },
  );

  it("walks the candidates by subscriber id, page after page, each once", async () => {
    const { org, campaign } = await audienceFixture();
    const app = await testApp();
    const actor = {
      apiKeyId: "",
      organizationId: org.rowId,
      role: "ADMIN" as const,
      campaignIds: null,
      isPlatform: false,
    };
    const at = new Date("2024-06-06T00:30:00Z");
    const walked: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: AudiencePage = await audiencePage(
        app.runtime,
        actor,
        rowId(campaign.id),
        at,
        after,
        3,
      );
      walked.push(...page.members.map((m) => m.decision.phone));
      after = page.next;
      pages++;
    } while (after);
    const rows = await audienceCsv(org.adminKey, campaign.id, at.toISOString());
    expect(walked).toEqual(rows.map((r) => r[0]));
    // ten opted-in candidates, three at a time
    expect(pages).toBe(4);
  });

  it("the connection pages through the same rows", async () => {
    const { org, campaign } = await audienceFixture();
    const at = "2024-06-06T00:30:00Z";
    const phones: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data: ImportAudienceQuery = await ok(org.adminKey, Audience, {
        campaignId: campaign.id,
        at,
        first: 3,
        after,
      });
      const { edges, pageInfo } = data.audience;
      expect(edges.every((e) => e.node.allowed && e.node.reason === "ALLOWED")).toBe(true);
      phones.push(...edges.map((e) => e.node.phone));
      pages++;
      if (!pageInfo.hasNextPage) break;
      expect(edges).toHaveLength(3);
      after = pageInfo.endCursor;
    }
    const rows = await audienceCsv(org.adminKey, campaign.id, at);
    expect(phones).toEqual(rows.map((r) => r[0]));
    expect(pages).toBe(Math.ceil(rows.length / 3) || 1);
  });

  it("refuses bad arguments", async () => {
    const { org, campaign } = await audienceFixture();
    const bad = async (variables: ImportAudienceQueryVariables) =>
      (await execute(org.adminKey, Audience, variables)).errors?.[0]?.extensions?.code;
    expect(await bad({ campaignId: campaign.id, after: "nope" })).toBe("BAD_USER_INPUT");
    expect(await bad({ campaignId: campaign.id, first: 1001 })).toBe("BAD_USER_INPUT");
    expect(await bad({ campaignId: campaign.id, first: -1 })).toBe("BAD_USER_INPUT");
    const id = encodeURIComponent(campaign.id);
    for (const query of ["", `campaignId=${id}&at=tomorrow`, `campaignId=${id}&at=2024-06-05`]) {
      const response = await get(`/exports/audience.csv?${query}`, org.adminKey);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "BAD_USER_INPUT" } });
    }
    const app = await testApp();
    const post = await fetch(`http://127.0.0.1:${app.server.port}/exports/audience.csv`, {
      method: "POST",
      headers: { authorization: `Bearer ${org.adminKey}` },
    });
    expect(post.status).toBe(405);
  });
});

describe("authentication and tenancy", () => {
  it("answers 401 without a valid key, on both endpoints", async () => {
    const { org, campaign } = await audienceFixture();
    const key = await ok(org.adminKey, CreateApiKey, {
      input: { name: "soon revoked", role: "VIEWER" },
    });
    await ok(org.adminKey, RevokeApiKey, { id: key.createApiKey.apiKey.id });
    const subscriber = await org.prisma.subscriber.findFirstOrThrow({
      where: { organizationId: org.rowId },
    });
    const paths = [
      `/exports/audience.csv?campaignId=${encodeURIComponent(campaign.id)}`,
      `/exports/subscribers/${encodeURIComponent(globalId("Subscriber", subscriber.id))}/evidence.json`,
    ];
    for (const path of paths) {
      for (const credential of [null, "og_not_a_key", key.createApiKey.secret]) {
        const response = await get(path, credential);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
        expect(await response.json()).toMatchObject({ error: { code: "UNAUTHENTICATED" } });
      }
      const allowed = await get(path, org.adminKey);
      expect(allowed.status).toBe(200);
      await allowed.text();
    }
  });

  it("reads another organization's campaign or subscriber as unknown (404)", async () => {
    const { org, campaign, other } = await audienceFixture();
    const stranger = await newOrganization();
    const subscriber = await org.prisma.subscriber.findFirstOrThrow({
      where: { organizationId: org.rowId },
    });
    const subscriberId = globalId("Subscriber", subscriber.id);
    const partner = await ok(org.adminKey, CreateApiKey, {
      input: { name: "partner", role: "PARTNER", campaignIds: [other.id] },
    });
    const notFound = [
      [stranger.adminKey, `/exports/audience.csv?campaignId=${encodeURIComponent(campaign.id)}`],
      [
        org.adminKey,
        `/exports/audience.csv?campaignId=${encodeURIComponent(globalId("Campaign", "0190a000-0000-7000-8000-000000000000"))}`,
      ],
      [org.adminKey, `/exports/audience.csv?campaignId=nope`],
      [org.adminKey, `/exports/audience.csv?campaignId=${encodeURIComponent(subscriberId)}`],
      [
        partner.createApiKey.secret,
        `/exports/audience.csv?campaignId=${encodeURIComponent(campaign.id)}`,
      ],
      [stranger.adminKey, `/exports/subscribers/${encodeURIComponent(subscriberId)}/evidence.json`],
      [org.adminKey, `/exports/subscribers/nope/evidence.json`],
      [org.adminKey, `/exports/subscribers/%E0%A4%A/evidence.json`],
      [org.adminKey, `/exports/nothing-here`],
    ] as const;
    for (const [key, path] of notFound) {
      const response = await get(path, key);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    }
    const partnerRows = await audienceCsv(
      partner.createApiKey.secret,
      other.id,
      "2024-06-05T18:30:00Z",
    );
    expect(partnerRows.map((r) => r[0])).toEqual(["+12125550199"]);

    const foreign = await execute(stranger.adminKey, Audience, { campaignId: campaign.id });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const evidence = await ok(stranger.adminKey, Evidence, { id: subscriberId });
    expect(evidence.subscriberEvidence).toBeNull();
    const byPhone = await ok(stranger.adminKey, Evidence, { phone: subscriber.phone });
    expect(byPhone.subscriberEvidence).toBeNull();
  });
});

describe("evidence file", () => {
  it("holds the subscriber, consents, hashed events, messages and every disclosure text", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const campaign = await createCampaign(org.adminKey, { senderId: sender.id });
    const phone = "+14155550700";
    await importCsv(
      org.rowId,
      // (after the campaign's first disclosures: the event cites version 1)
      `${CSV_HEADER}\n${phone},opted_in,${new Date().toISOString()},WEB_FORM,,203.0.113.9,,,`,
      { campaignId: rowId(campaign.id), fileName: "legacy.csv" },
    );
    await ok(org.adminKey, ReceiveInboundMessage, {
      input: { from: phone, to: sender.address, body: "STOP" },
    });
    await ok(org.adminKey, UpdateCampaign, {
      input: {
        id: campaign.id,
        disclosures: { ...disclosures(), messageFrequency: "Up to 8 msgs/month" },
      },
    });
    const rejoined = await ok(org.adminKey, OptIn, {
      input: { phone, campaignId: campaign.id, method: "WEB_FORM" },
    });
    expect(rejoined.optIn.consent.status).toBe("PENDING");

    const subscriber = await org.prisma.subscriber.findFirstOrThrow({
      where: { organizationId: org.rowId, phone },
    });
    const response = await get(
      `/exports/subscribers/${encodeURIComponent(globalId("Subscriber", subscriber.id))}/evidence.json`,
      org.adminKey,
    );
    expect(response.status).toBe(200);
    const file = (await response.json()) as any;
    expect(file).toMatchObject({
      format: "optgraph.subscriber-evidence.v1",
      organization: { id: org.rowId },
      subscriber: { id: subscriber.id, phone },
      consents: [{ campaign: { id: rowId(campaign.id) }, status: "PENDING", method: "WEB_FORM" }],
    });
    const events = file.ledger.events;
    expect(events.map((e: any) => [e.toStatus, e.method])).toEqual([
      ["OPTED_IN", "IMPORT"],
      ["OPTED_OUT", "KEYWORD"],
      ["PENDING", "WEB_FORM"],
    ]);
    expect(events[0].evidence.source).toMatchObject({ file: "legacy.csv", row: 2 });
    const stored = await org.prisma.consentEvent.findMany({
      where: { subscriberId: subscriber.id },
      orderBy: { sequence: "asc" },
    });
    expect(events.map((e: any) => [e.sequence, e.prevHash, e.hash, e.hashVerified])).toEqual(
      stored.map((e) => [e.sequence, e.prevHash, e.hash, true]),
    );
    expect(file.keywordMessages).toEqual([
      expect.objectContaining({ from: phone, body: "STOP", intent: "OPT_OUT" }),
    ]);
    expect(events[1].keywordEventId).toBe(file.keywordMessages[0].id);
    expect(file.disclosures.map((d: any) => [d.version, d.messageFrequency])).toEqual([
      [1, "Up to 4 msgs/month"],
      [2, "Up to 8 msgs/month"],
    ]);
    expect(file.disclosures[0].consentLanguage).toBe(disclosures().consentLanguage);

    const { generatedAt: _http, ...fromHttp } = file;
    const byPhone = await ok(org.adminKey, Evidence, { phone: "(415) 555-0700" });
    const { generatedAt: _gql, ...fromGraphql } = byPhone.subscriberEvidence as any;
    expect(fromGraphql).toEqual(fromHttp);
    expect(
      (await ok(org.adminKey, Evidence, { phone: "+14155550799" })).subscriberEvidence,
    ).toBeNull();
    const both = await execute(org.adminKey, Evidence, { id: "x", phone });
    expect(both.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
