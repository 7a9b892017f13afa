// The one write path, tried as a user and an attacker would: each case here broke the record
// before every consent change went through one decider and one ledger writer (the write-path
// issue), and each must hold on every path that changes consent.
import { describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import { recordQueries, testApp } from "../support/app.ts";
import { createCampaign, createSender, disclosures } from "../support/fixtures.ts";
import { execute, failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import { importCsv, CSV_HEADER, rowId } from "../import/support.ts";
import {
  ConfirmOptIn,
  CreateApiKey,
  OptIn,
  OptOut,
  UpdateCampaign,
  confirmation,
  consentOf,
  ledger,
  optIn,
  optOut,
  verifyLedger,
} from "./ops.ts";

const Inbound = graphql(`
  mutation WritePathInbound($input: InboundMessageInput!) {
    receiveInboundMessage(input: $input) {
      reply
      keywordEvent {
        id
        intent
        campaigns {
          id
          name
        }
        consentEvents {
          id
          toStatus
          evidence
          campaign {
            id
            name
            keywords
            stats {
              optedIn
            }
          }
          subscriber {
            phone
          }
          consent {
            status
          }
          disclosures {
            version
          }
        }
      }
    }
  }
`);

const Stats = graphql(`
  query WritePathStats($first: Int) {
    campaigns(first: $first) {
      edges {
        node {
          id
          name
          stats {
            optedIn
            optedOut
            pending
            suppressed
            expired
          }
        }
      }
    }
  }
`);

const CanSendNow = graphql(`
  query WritePathCanSend($phone: String!, $campaignId: ID!) {
    canSend(phone: $phone, campaignId: $campaignId, at: "2026-06-02T16:00:00Z") {
      allowed
      reason
    }
  }
`);

const EventPage = graphql(`
  query WritePathEvents($first: Int, $after: String) {
    consentEvents(first: $first, after: $after) {
      edges {
        node {
          sequence
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const PHONE = "+14155550177";

interface Page {
  edges: { node: { sequence: number } }[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

const partnerKey = async (adminKey: string, campaignIds: string[]) =>
  (await ok(adminKey, CreateApiKey, { input: { name: "partner", role: "PARTNER", campaignIds } }))
    .createApiKey.secret;

const inbound = (key: string, to: string, body: string, from = PHONE) =>
  execute(key, Inbound, { input: { from, to, body } });

describe("STOP then START", () => {
  it("restores exactly the consents the STOP ended, never a campaign the number never joined", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const joined = await createCampaign(org.adminKey, {
      senderId: sender.id,
      keywords: ["JOINED"],
    });
    const double = await createCampaign(org.adminKey, { senderId: sender.id, doubleOptIn: true });
    const draft = await createCampaign(org.adminKey, { senderId: sender.id, active: false });
    const transactional = await createCampaign(org.adminKey, {
      senderId: sender.id,
      purpose: "TRANSACTIONAL",
    });
    const others = [double, draft, transactional];

    expect((await inbound(org.adminKey, sender.address, "JOINED")).errors).toBeUndefined();
    const stop = await inbound(org.adminKey, sender.address, "STOP");
    expect(stop.errors).toBeUndefined();
    for (const c of [joined, ...others]) {
      expect((await consentOf(org.adminKey, PHONE, c.id))?.status).toBe("OPTED_OUT");
    }

    const start = await inbound(org.adminKey, sender.address, "START");
    expect(start.errors).toBeUndefined();
    expect(start.data!.receiveInboundMessage.keywordEvent.consentEvents).toHaveLength(1);
    expect((await consentOf(org.adminKey, PHONE, joined.id))?.status).toBe("OPTED_IN");
    for (const c of others) {
      expect((await consentOf(org.adminKey, PHONE, c.id))?.status).toBe("OPTED_OUT");
      const decision = await ok(org.adminKey, CanSendNow, { phone: PHONE, campaignId: c.id });
      expect(decision.canSend).toMatchObject({ allowed: false, reason: "OPTED_OUT" });
    }

    // the admin view tells a number that opted out from one blocked without ever joining
    const stats = new Map(
      (await ok(org.adminKey, Stats, { first: 10 })).campaigns.edges.map((e) => [
        e.node.id,
        e.node.stats,
      ]),
    );
    expect(stats.get(joined.id)).toEqual({
      optedIn: 1,
      optedOut: 0,
      pending: 0,
      suppressed: 0,
      expired: 0,
    });
    for (const c of others) {
      expect(stats.get(c.id)).toMatchObject({ optedIn: 0, optedOut: 0, suppressed: 1 });
    }
    await optOut(org.adminKey, { phone: PHONE, campaignId: joined.id });
    const after = (await ok(org.adminKey, Stats, { first: 10 })).campaigns.edges.find(
      (e) => e.node.id === joined.id,
    )!.node.stats;
    expect(after).toMatchObject({ optedIn: 0, optedOut: 1, suppressed: 0 });
  });

  it("a START after an API opt-out restores nothing (only a keyword opt-out is the subscriber's own)", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const campaign = await createCampaign(org.adminKey, { senderId: sender.id });
    await optIn(org.adminKey, { phone: PHONE, campaignId: campaign.id });
    await optOut(org.adminKey, { phone: PHONE, campaignId: campaign.id });
    await inbound(org.adminKey, sender.address, "START");
    expect((await consentOf(org.adminKey, PHONE, campaign.id))?.status).toBe("OPTED_OUT");
  });
});

describe("a confirmation is the subscriber's reply", () => {
  it("is refused without the inbound message, and with a message that is not a Y, writing nothing", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey, { doubleOptIn: true });
    const base = { phone: PHONE, campaignId: campaign.id };
    // the number opted out; an integration re-adds it: it must stay PENDING until the subscriber says Y
    await optIn(org.adminKey, base);
    await optOut(org.adminKey, base);
    await optIn(org.adminKey, base);
    const before = await rowCounts(org.rowId);
    const missing = await failure(org.adminKey, ConfirmOptIn, { input: base });
    expect(missing).toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "input.message" },
    });
    const notAYes = await failure(org.adminKey, ConfirmOptIn, {
      input: confirmation({ ...base, body: "what is this?" }),
    });
    expect(notAYes).toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "input.message.body" },
    });
    const otherNumber = await failure(org.adminKey, ConfirmOptIn, {
      input: {
        ...confirmation(base),
        message: { ...confirmation(base).message!, from: "+14155550100" },
      },
    });
    expect(otherNumber).toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "input.message.from" },
    });
    expect(await rowCounts(org.rowId)).toEqual(before);
    expect((await consentOf(org.adminKey, PHONE, campaign.id))?.status).toBe("PENDING");

    // the reply itself confirms, as KEYWORD, citing the message; its retry changes nothing more
    const input = confirmation(base);
    const confirmed = (await ok(org.adminKey, ConfirmOptIn, { input })).confirmOptIn;
    expect(confirmed).toMatchObject({ changed: true, event: { method: "KEYWORD" } });
    const retried = (await ok(org.adminKey, ConfirmOptIn, { input })).confirmOptIn;
    expect(retried).toMatchObject({ changed: true, event: { id: confirmed.event!.id } });
    expect((await ledger(org.adminKey)).length).toBe(4);
  });
});

describe("a PARTNER key writes only inside its campaigns", () => {
  async function setUp() {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const own = await createCampaign(org.adminKey, { senderId: sender.id, keywords: ["MINE"] });
    const foreign = await createCampaign(org.adminKey, {
      senderId: sender.id,
      keywords: ["THEIRS"],
    });
    const partner = await partnerKey(org.adminKey, [own.id]);
    return { org, sender, own, foreign, partner };
  }

  it("inbound join keywords, STOP and START change only the key's campaigns, and answer without error", async () => {
    const { org, sender, own, foreign, partner } = await setUp();
    await optIn(org.adminKey, { phone: PHONE, campaignId: foreign.id });

    const join = await inbound(partner, sender.address, "THEIRS", "+14155550178");
    expect(join.errors).toBeUndefined();
    expect(await consentOf(org.adminKey, "+14155550178", foreign.id)).toBeNull();

    const stop = await inbound(partner, sender.address, "STOP");
    expect(stop.errors).toBeUndefined();
    const events = stop.data!.receiveInboundMessage.keywordEvent.consentEvents;
    expect(events.map((e) => e.campaign?.id)).toEqual([own.id]);
    expect((await consentOf(org.adminKey, PHONE, foreign.id))?.status).toBe("OPTED_IN");
    expect((await consentOf(org.adminKey, PHONE, own.id))?.status).toBe("OPTED_OUT");
    expect(await verifyLedger(org.adminKey)).toMatchObject({ ok: true });
  });

  it("a provider message id already used answers CONFLICT for another message, showing nothing of it", async () => {
    const { org, sender, partner } = await setUp();
    const first = {
      from: "+14155550180",
      to: sender.address,
      body: "THEIRS please, my secret words",
      providerMessageId: "SM-known-1",
    };
    expect((await execute(org.adminKey, Inbound, { input: first })).errors).toBeUndefined();
    const before = await rowCounts(org.rowId);
    const probe = await execute(partner, Inbound, {
      input: { ...first, from: PHONE, body: "HELP" },
    });
    expect(probe.errors?.[0]).toMatchObject({
      extensions: { code: "CONFLICT", field: "input.providerMessageId" },
    });
    expect(JSON.stringify(probe)).not.toContain("secret");
    expect(JSON.stringify(probe)).not.toContain("+14155550180");
    expect(await rowCounts(org.rowId)).toEqual(before);
  });

  it("optOut with SENDER or ORGANIZATION scope opts out only the key's campaigns", async () => {
    const { org, own, foreign, partner } = await setUp();
    for (const scope of ["SENDER", "ORGANIZATION"] as const) {
      const phone = scope === "SENDER" ? PHONE : "+14155550179";
      await optIn(org.adminKey, { phone, campaignId: foreign.id });
      await optIn(org.adminKey, { phone, campaignId: own.id });
      const result = await ok(partner, OptOut, {
        input: { phone, campaignId: own.id, scope, method: "API" },
      });
      expect(result.optOut.events.map((e) => e.toStatus)).toEqual(["OPTED_OUT"]);
      expect(result.optOut.consents.map((c) => c.campaign.id)).toEqual([own.id]);
      expect((await consentOf(org.adminKey, phone, foreign.id))?.status).toBe("OPTED_IN");
      expect((await consentOf(org.adminKey, phone, own.id))?.status).toBe("OPTED_OUT");
    }
  });
});

describe("what is hashed is what is stored", () => {
  it("an evidence object with a __proto__ key keeps verifyLedger ok, or is refused writing nothing", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const app = await testApp();
    for (const evidence of ['{"__proto__": {}}', '{"constructor": {"prototype": {"x": 1}}}']) {
      const before = await rowCounts(org.rowId);
      const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${org.adminKey}` },
        body: `{"query":"mutation($input: OptOutInput!) { optOut(input: $input) { changed } }","variables":{"input":{"phone":"${PHONE}","campaignId":"${campaign.id}","method":"API","evidence":${evidence}}}}`,
      });
      const body = (await response.json()) as {
        errors?: { extensions: { code: string } }[];
      };
      if (body.errors) {
        expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
        expect(await rowCounts(org.rowId)).toEqual(before);
      }
      expect(await verifyLedger(org.adminKey)).toMatchObject({ ok: true });
      await optIn(org.adminKey, { phone: PHONE, campaignId: campaign.id });
    }
    expect(await verifyLedger(org.adminKey)).toMatchObject({ ok: true });
  });
});

describe("the ledger reads in sequence order", () => {
  it("consentEvents pages follow the sequence, whatever the row ids", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    // one import batch: its events are written in one statement, many within a millisecond
    const rows = Array.from(
      { length: 60 },
      (_, i) => `+1415555${String(1000 + i)},opted_in,2026-12-01T10:00:00Z,,,,,,`,
    );
    const { job } = await importCsv(org.rowId, [CSV_HEADER, ...rows].join("\n"), {
      campaignId: rowId(campaign.id),
    });
    expect(job.imported).toBe(60);
    const sequences: number[] = [];
    let after: string | null | undefined = null;
    for (;;) {
      const data: { consentEvents: Page } = await ok(org.adminKey, EventPage, { first: 7, after });
      const page = data.consentEvents;
      sequences.push(...page.edges.map((e) => e.node.sequence));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(sequences).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });
});

describe("the disclosures in force", () => {
  it("a backdated import row cites the version in force at its occurredAt, or says none was", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const created = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ok(org.adminKey, UpdateCampaign, {
      input: { id: campaign.id, disclosures: disclosures("Acme Deals Two") },
    });
    const csv = [
      CSV_HEADER,
      `+14155552001,opted_in,${new Date(created - 30 * 86_400_000).toISOString()},,,,,,`,
      `+14155552002,opted_in,${between},,,,,,`,
      `+14155552003,opted_in,${new Date().toISOString()},,,,,,`,
    ].join("\n");
    const { job } = await importCsv(org.rowId, csv, { campaignId: rowId(campaign.id) });
    expect(job.imported).toBe(3);
    const app = await testApp();
    const events = await app.db.prisma.consentEvent.findMany({
      where: { organizationId: org.rowId },
      orderBy: { sequence: "asc" },
      include: { disclosureVersion: { select: { version: true } } },
    });
    expect(events.map((e) => e.disclosureVersion?.version ?? null)).toEqual([null, 1, 2]);
    expect(events[0].evidence).toMatchObject({
      consentLanguage: {
        version: null,
        note: expect.stringMatching(/no disclosures of this campaign were in force/),
      },
    });
    expect(events[1].evidence).toMatchObject({ consentLanguage: { version: 1 } });
  });
});

describe("a committed write answers without error", () => {
  it("every payload field resolves after each mutation, for an ADMIN and a PARTNER key", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const own = await createCampaign(org.adminKey, { senderId: sender.id, keywords: ["OWN"] });
    await createCampaign(org.adminKey, { senderId: sender.id, keywords: ["OTHER"] });
    const partner = await partnerKey(org.adminKey, [own.id]);
    for (const [i, key] of [org.adminKey, partner].entries()) {
      const phone = `+1415555030${i}`;
      for (const body of ["OWN", "OTHER", "HELP", "STOP", "START", "STOPALL", "hello"]) {
        const answer = await inbound(key, sender.address, body, phone);
        expect(answer.errors, `${body} with key ${i}`).toBeUndefined();
      }
      const opted = await execute(key, OptIn, {
        input: { phone, campaignId: own.id, method: "API" },
      });
      expect(opted.errors).toBeUndefined();
      for (const scope of ["CAMPAIGN", "SENDER", "ORGANIZATION"] as const) {
        const out = await execute(key, OptOut, {
          input: { phone, campaignId: own.id, scope, method: "API" },
        });
        expect(out.errors, scope).toBeUndefined();
      }
    }
  });
});

describe("Campaign.stats", () => {
  it("is one query for a page of campaigns", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    for (let i = 0; i < 10; i++) {
      const c = await createCampaign(org.adminKey, { senderId: sender.id });
      await optIn(org.adminKey, { phone: PHONE, campaignId: c.id });
    }
    const { result, queries } = await recordQueries(() => ok(org.adminKey, Stats, { first: 10 }));
    expect(result.campaigns.edges).toHaveLength(10);
    expect(result.campaigns.edges.every((e) => e.node.stats.optedIn === 1)).toBe(true);
    expect(queries.filter((q) => /"Consent"/.test(q) && /GROUP BY/i.test(q))).toHaveLength(1);
  });
});
