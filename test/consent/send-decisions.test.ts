// canSend and canSendMany: every reason, quiet hours for marketing only (with the next allowed
// instant), batch answers in input order that equal the single answers, one SQL statement for a
// whole batch, and an opt-out that takes effect the moment it returns.
import { beforeAll, describe, expect, it } from "vitest";
import { SEND_CACHE_SQL_TAG } from "../../src/services/send-cache-reads.ts";
import { recordQueries, testApp } from "../support/app.ts";
import { until } from "../streams/support.ts";
import { createCampaign } from "../support/fixtures.ts";
import { graphql } from "../generated/index.ts";
import { newOrganization, ok } from "../support/graphql.ts";
import {
  CanSend,
  CanSendMany,
  SetStatus,
  confirmOptIn,
  expireNow,
  optIn,
  optOut,
  rowId,
} from "./ops.ts";

// San Francisco numbers (America/Los_Angeles, no state rule); a Dallas number (Texas: 9:00–21:00)
const OPTED_IN = "+14155550101";
const PENDING = "+14155550102";
const OPTED_OUT = "+14155550103";
const EXPIRED = "+14155550104";
const NEVER = "+14155550105";
const DALLAS = "+12145550100";

const NOON_SF = "2025-01-15T20:00:00.000Z"; // Wednesday 12:00 in San Francisco
const NIGHT_SF = "2025-01-15T10:00:00.000Z"; // Wednesday 02:00 in San Francisco
const MORNING_SF = "2025-01-15T16:00:00.000Z"; // 08:00 in San Francisco: the window opens
const DALLAS_8_30 = "2026-01-14T14:30:00.000Z"; // Wednesday 08:30 in Dallas: federal yes, Texas no
const DALLAS_9 = "2026-01-14T15:00:00.000Z";

// the worker's app starts (and migrates) in a hook, with a hook's time, not in the first test's
beforeAll(async () => {
  await testApp();
});

/** An organization where each phone is in a known state for a MARKETING and an INFORMATIONAL campaign. */
async function setUp() {
  const org = await newOrganization();
  const key = org.adminKey;
  const marketing = await createCampaign(key, { purpose: "MARKETING", doubleOptIn: true });
  const informational = await createCampaign(key, { purpose: "INFORMATIONAL", doubleOptIn: true });
  for (const campaign of [marketing, informational]) {
    const c = campaign.id;
    await optIn(key, { phone: OPTED_IN, campaignId: c });
    await confirmOptIn(key, { phone: OPTED_IN, campaignId: c });
    await optIn(key, { phone: DALLAS, campaignId: c });
    await confirmOptIn(key, { phone: DALLAS, campaignId: c });
    await optIn(key, { phone: PENDING, campaignId: c });
    await optIn(key, { phone: OPTED_OUT, campaignId: c });
    await optOut(key, { phone: OPTED_OUT, campaignId: c });
    const expiring = await optIn(key, { phone: EXPIRED, campaignId: c });
    await expireNow(expiring.consent.id);
  }
  return { org, key, marketing, informational };
}

const canSend = async (
  key: string,
  phone: string,
  campaignId: string,
  at: string | null = NOON_SF,
) => (await ok(key, CanSend, { phone, campaignId, at })).canSend;

const CanSendTimes = graphql(`
  query ConsCanSendTimes($phone: String!, $campaignId: ID!, $at: DateTime) {
    canSend(phone: $phone, campaignId: $campaignId, at: $at) {
      consent {
        expiresAt
        createdAt
        updatedAt
      }
    }
  }
`);

describe("canSend", () => {
  it("hands over the consent's instants exactly as stored, whatever the server's time zone", async () => {
    const { org, key, marketing } = await setUp();
    const stored = await org.prisma.consent.findFirstOrThrow({
      where: { campaignId: rowId(marketing.id), subscriber: { phone: PENDING } },
    });
    const { canSend: decision } = await ok(key, CanSendTimes, {
      phone: PENDING,
      campaignId: marketing.id,
      at: NOON_SF,
    });
    expect(decision.consent).toEqual({
      expiresAt: stored.expiresAt!.toISOString(),
      createdAt: stored.createdAt.toISOString(),
      updatedAt: stored.updatedAt.toISOString(),
    });
  });

  it("answers each reason", async () => {
    const { key, marketing, informational } = await setUp();
    for (const campaign of [marketing, informational]) {
      expect(await canSend(key, OPTED_IN, campaign.id)).toMatchObject({
        phone: OPTED_IN,
        allowed: true,
        reason: "ALLOWED",
        nextAllowedAt: null,
        consent: { status: "OPTED_IN" },
      });
      expect(await canSend(key, NEVER, campaign.id)).toMatchObject({
        allowed: false,
        reason: "NO_CONSENT",
        consent: null,
      });
      expect(await canSend(key, EXPIRED, campaign.id)).toMatchObject({
        allowed: false,
        reason: "NO_CONSENT",
        consent: { status: "EXPIRED" },
      });
      expect(await canSend(key, PENDING, campaign.id)).toMatchObject({
        allowed: false,
        reason: "PENDING_CONFIRMATION",
        consent: { status: "PENDING" },
      });
      expect(await canSend(key, OPTED_OUT, campaign.id)).toMatchObject({
        allowed: false,
        reason: "OPTED_OUT",
        consent: { status: "OPTED_OUT" },
      });
    }
  });

  it("a PAUSED campaign is CAMPAIGN_NOT_ACTIVE for an opted-in number; consent is decided first", async () => {
    const { key, marketing } = await setUp();
    await ok(key, SetStatus, { input: { id: marketing.id, status: "PAUSED" } });
    expect(await canSend(key, OPTED_IN, marketing.id)).toMatchObject({
      allowed: false,
      reason: "CAMPAIGN_NOT_ACTIVE",
    });
    expect((await canSend(key, OPTED_OUT, marketing.id)).reason).toBe("OPTED_OUT");
    expect((await canSend(key, NEVER, marketing.id)).reason).toBe("NO_CONSENT");
    await ok(key, SetStatus, { input: { id: marketing.id, status: "ACTIVE" } });
    expect((await canSend(key, OPTED_IN, marketing.id)).reason).toBe("ALLOWED");
  });

  it("quiet hours hold marketing at night (with nextAllowedAt) and never informational", async () => {
    const { key, marketing, informational } = await setUp();
    expect(await canSend(key, OPTED_IN, marketing.id, NIGHT_SF)).toMatchObject({
      allowed: false,
      reason: "QUIET_HOURS",
      nextAllowedAt: MORNING_SF,
    });
    expect(await canSend(key, OPTED_IN, informational.id, NIGHT_SF)).toMatchObject({
      allowed: true,
      reason: "ALLOWED",
      nextAllowedAt: null,
    });
    expect((await canSend(key, OPTED_IN, marketing.id, MORNING_SF)).reason).toBe("ALLOWED");
    // Texas opens at 9:00, not 8:00
    expect(await canSend(key, DALLAS, marketing.id, DALLAS_8_30)).toMatchObject({
      reason: "QUIET_HOURS",
      nextAllowedAt: DALLAS_9,
    });
    expect((await canSend(key, DALLAS, marketing.id, DALLAS_9)).reason).toBe("ALLOWED");
    // consent outranks quiet hours
    expect((await canSend(key, OPTED_OUT, marketing.id, NIGHT_SF)).reason).toBe("OPTED_OUT");
  });

  it("is false the moment optOut returns, every time", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const campaign = await createCampaign(key, { purpose: "INFORMATIONAL" });
    const phone = "+14155550150";
    const base = { phone, campaignId: campaign.id };
    await optIn(key, base);
    for (let round = 0; round < 5; round++) {
      expect(await canSend(key, phone, campaign.id, null)).toMatchObject({ allowed: true });
      await optOut(key, base);
      const [single, batch] = await Promise.all([
        canSend(key, phone, campaign.id, null),
        ok(key, CanSendMany, { phones: [phone], campaignId: campaign.id }),
      ]);
      expect(single).toMatchObject({ allowed: false, reason: "OPTED_OUT" });
      expect(batch.canSendMany[0]).toMatchObject({ allowed: false, reason: "OPTED_OUT" });
      // back in: the integration's re-add waits for the subscriber's Y
      await optIn(key, base);
      expect((await canSend(key, phone, campaign.id, null)).allowed).toBe(false);
      await confirmOptIn(key, base);
    }
  });
});

describe("canSendMany", () => {
  it("keeps input order with duplicates, one decision per phone, equal to canSend per phone", async () => {
    const { key, marketing, informational } = await setUp();
    const phones = [
      OPTED_OUT,
      "(415) 555-0101", // OPTED_IN, written another way
      NEVER,
      PENDING,
      OPTED_IN,
      EXPIRED,
      DALLAS,
      OPTED_OUT,
      "4155550105", // NEVER again
    ];
    for (const campaign of [marketing, informational]) {
      for (const at of [NOON_SF, NIGHT_SF, DALLAS_8_30]) {
        const batch = (await ok(key, CanSendMany, { phones, campaignId: campaign.id, at }))
          .canSendMany;
        expect(batch).toHaveLength(phones.length);
        const singles = [];
        for (const phone of phones) singles.push(await canSend(key, phone, campaign.id, at));
        expect(batch).toEqual(singles);
        expect(batch.map((d) => d.phone)).toEqual([
          OPTED_OUT,
          OPTED_IN,
          NEVER,
          PENDING,
          OPTED_IN,
          EXPIRED,
          DALLAS,
          OPTED_OUT,
          NEVER,
        ]);
        expect(batch[1]).toEqual(batch[4]);
        expect(batch[0]).toEqual(batch[7]);
      }
    }
    const night = (await ok(key, CanSendMany, { phones, campaignId: marketing.id, at: NIGHT_SF }))
      .canSendMany;
    expect(night.map((d) => d.reason)).toEqual([
      "OPTED_OUT",
      "QUIET_HOURS",
      "NO_CONSENT",
      "PENDING_CONFIRMATION",
      "QUIET_HOURS",
      "NO_CONSENT",
      "QUIET_HOURS",
      "OPTED_OUT",
      "NO_CONSENT",
    ]);
  });

  it("answers an empty list with an empty list", async () => {
    const { key, marketing } = await setUp();
    const data = await ok(key, CanSendMany, { phones: [], campaignId: marketing.id });
    expect(data.canSendMany).toEqual([]);
  });

  it("reads 1,000 phones' consents in ONE statement, none per phone, until it answers from memory", async () => {
    const phones = Array.from(
      { length: 1000 },
      (_, i) => `+1415555${String(1000 + i).padStart(4, "0")}`,
    );
    phones[10] = OPTED_IN;
    phones[500] = OPTED_OUT;
    phones[999] = PENDING;
    // warm the connection and the region cache on another organization: the measured call is the
    // first of its own, so the send cache does not hold it yet and the database answers
    const warm = await setUp();
    await ok(warm.key, CanSendMany, { phones, campaignId: warm.marketing.id, at: NOON_SF });
    const { key, marketing } = await setUp();
    const ask = () => ok(key, CanSendMany, { phones, campaignId: marketing.id, at: NOON_SF });
    const { result, queries } = await recordQueries(ask);
    // not this request's: the app's once-a-minute expiry sweep, the send cache's own reads
    const others = (sql: string) => /"expiresAt" <=/.test(sql) || sql.includes(SEND_CACHE_SQL_TAG);
    const touchingConsent = queries.filter((sql) => /"Consent"/.test(sql) && !others(sql));
    expect(touchingConsent, touchingConsent.join("\n---\n")).toHaveLength(1);
    expect(touchingConsent[0]).toMatch(/unnest/);
    expect(
      queries.filter((sql) => !others(sql)).length,
      queries.join("\n---\n"),
    ).toBeLessThanOrEqual(5);
    // once the send cache holds the organization: no statement at all, the same answers
    const app = await testApp();
    await until(async () => {
      const before = app.runtime.sendCache.counts.answered;
      await ask();
      return app.runtime.sendCache.counts.answered > before;
    }, "the send cache to hold the organization");
    const fromMemory = await recordQueries(ask);
    expect(
      fromMemory.queries.filter((sql) => !others(sql) && !/"ApiKey"/.test(sql)),
      fromMemory.queries.join("\n---\n"),
    ).toEqual([]);
    expect(fromMemory.result).toEqual(result);
    const decisions = result.canSendMany;
    expect(decisions).toHaveLength(1000);
    expect(decisions[10].reason).toBe("ALLOWED");
    expect(decisions[500].reason).toBe("OPTED_OUT");
    expect(decisions[999].reason).toBe("PENDING_CONFIRMATION");
    expect(decisions.filter((d) => d.reason === "NO_CONSENT")).toHaveLength(997);
  });
});
