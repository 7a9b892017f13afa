// Opt-out scopes: CAMPAIGN (the named campaign), SENDER (every campaign of the organization on the
// named campaign's sender, with suppression records where there was no consent yet) and
// ORGANIZATION (every campaign), each in one transaction with one event per changed consent and
// one confirmation text.
import { describe, expect, it } from "vitest";
import { createCampaign, createSender, disclosures } from "../support/fixtures.ts";
import { failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import {
  CanSend,
  CampaignTexts,
  OptOut,
  SetStatus,
  UpdateCampaign,
  consentOf,
  ledger,
  optIn,
  optOut,
  refused,
  verifyLedger,
} from "./ops.ts";

const PHONE = "+14155550123";
const DAYTIME = "2025-01-15T20:00:00.000Z"; // 12:00 in San Francisco

/**
 * One organization with two senders. On sender 1: A (opted in), B (never contacted), C (double
 * opt-in, PENDING, another program name), P (PAUSED, never contacted), X (ARCHIVED, never
 * contacted). On sender 2: G (opted in).
 */
async function landscape() {
  const org = await newOrganization();
  const key = org.adminKey;
  const s1 = await createSender(key);
  const s2 = await createSender(key);
  const A = await createCampaign(key, { senderId: s1.id });
  const B = await createCampaign(key, { senderId: s1.id });
  const C = await createCampaign(key, { senderId: s1.id, doubleOptIn: true });
  await ok(key, UpdateCampaign, { input: { id: C.id, disclosures: disclosures("Beta Club") } });
  const P = await createCampaign(key, { senderId: s1.id });
  await ok(key, SetStatus, { input: { id: P.id, status: "PAUSED" } });
  const X = await createCampaign(key, { senderId: s1.id });
  await ok(key, SetStatus, { input: { id: X.id, status: "ARCHIVED" } });
  const G = await createCampaign(key, { senderId: s2.id });
  expect((await optIn(key, { phone: PHONE, campaignId: A.id })).consent.status).toBe("OPTED_IN");
  expect((await optIn(key, { phone: PHONE, campaignId: C.id })).consent.status).toBe("PENDING");
  expect((await optIn(key, { phone: PHONE, campaignId: G.id })).consent.status).toBe("OPTED_IN");
  return { org, key, A, B, C, P, X, G };
}

const statusOf = async (key: string, campaignId: string) =>
  (await consentOf(key, PHONE, campaignId))?.status ?? null;

async function decision(key: string, campaignId: string) {
  return (await ok(key, CanSend, { phone: PHONE, campaignId, at: DAYTIME })).canSend;
}

describe("optOut scopes", () => {
  it("SENDER revokes every campaign on the campaign's sender, with suppression records, and no other sender's", async () => {
    const { org, key, A, B, C, P, X, G } = await landscape();
    const before = await ledger(key);
    const result = await optOut(key, { phone: PHONE, campaignId: A.id, scope: "SENDER" });

    expect(result.changed).toBe(true);
    // one event per consent that changed, in one block of the ledger
    const byCampaign = new Map(result.events.map((e) => [e.campaign!.id, e]));
    expect([...byCampaign.keys()].sort()).toEqual([A.id, B.id, C.id, P.id].sort());
    expect(byCampaign.get(A.id)).toMatchObject({ fromStatus: "OPTED_IN", toStatus: "OPTED_OUT" });
    expect(byCampaign.get(B.id)).toMatchObject({ fromStatus: null, toStatus: "OPTED_OUT" });
    expect(byCampaign.get(C.id)).toMatchObject({ fromStatus: "PENDING", toStatus: "OPTED_OUT" });
    expect(byCampaign.get(P.id)).toMatchObject({ fromStatus: null, toStatus: "OPTED_OUT" });
    expect(result.events.map((e) => e.sequence).sort((a, b) => a - b)).toEqual(
      [1, 2, 3, 4].map((i) => before.length + i),
    );
    expect(result.events.every((e) => e.method === "API")).toBe(true);
    expect(result.consents.every((c) => c.status === "OPTED_OUT")).toBe(true);

    for (const campaign of [A, B, C, P]) expect(await statusOf(key, campaign.id)).toBe("OPTED_OUT");
    expect(await statusOf(key, X.id)).toBeNull(); // archived, never had the number
    expect(await statusOf(key, G.id)).toBe("OPTED_IN"); // other sender
    expect(await ledger(key)).toHaveLength(before.length + 4);

    // one confirmation text naming each program once, with how to come back
    const message = result.confirmationMessage!;
    expect(typeof message).toBe("string");
    expect(message.split("Acme Deals")).toHaveLength(2);
    expect(message.split("Beta Club")).toHaveLength(2);
    expect(message).toMatch(/START/);
    const own = (await ok(key, CampaignTexts, { id: A.id })).campaign!.disclosures;
    expect(message).not.toContain(own.optOutConfirmation);

    for (const campaign of [A, C]) {
      expect(await decision(key, campaign.id)).toMatchObject({
        allowed: false,
        reason: "OPTED_OUT",
      });
    }
    expect(await decision(key, G.id)).toMatchObject({ allowed: true, reason: "ALLOWED" });

    // the same opt-out again changes nothing and sends nothing
    const counts = await rowCounts(org.rowId);
    const again = await optOut(key, { phone: PHONE, campaignId: B.id, scope: "SENDER" });
    expect(again).toMatchObject({ changed: false, events: [], confirmationMessage: null });
    expect(await rowCounts(org.rowId)).toEqual(counts);
    expect(await verifyLedger(key)).toMatchObject({ ok: true, eventsChecked: before.length + 4 });
  });

  it("ORGANIZATION revokes every campaign of the organization, campaignId optional", async () => {
    const { key, A, B, C, P, X, G } = await landscape();
    const before = await ledger(key);
    const result = await optOut(key, { phone: PHONE, scope: "ORGANIZATION" });
    expect(result.changed).toBe(true);
    expect(result.events).toHaveLength(5);
    for (const campaign of [A, B, C, P, G])
      expect(await statusOf(key, campaign.id)).toBe("OPTED_OUT");
    expect(await statusOf(key, X.id)).toBeNull();
    expect(await ledger(key)).toHaveLength(before.length + 5);
    expect(result.confirmationMessage).toMatch(/unsubscribed/);
    expect(result.confirmationMessage!.split("Acme Deals")).toHaveLength(2);
    for (const campaign of [A, G]) {
      expect(await decision(key, campaign.id)).toMatchObject({
        allowed: false,
        reason: "OPTED_OUT",
      });
    }

    // with a campaignId too, it is still the whole organization (nothing left to change)
    const again = await optOut(key, { phone: PHONE, campaignId: A.id, scope: "ORGANIZATION" });
    expect(again).toMatchObject({ changed: false, events: [], confirmationMessage: null });
    expect(again.consents).toHaveLength(5);
  });

  it("CAMPAIGN (the default) revokes the named campaign only, with that campaign's own confirmation", async () => {
    const { key, A, C, G } = await landscape();
    const result = await optOut(key, { phone: PHONE, campaignId: A.id });
    expect(result.events).toHaveLength(1);
    expect(result.events[0]).toMatchObject({ campaign: { id: A.id }, toStatus: "OPTED_OUT" });
    const own = (await ok(key, CampaignTexts, { id: A.id })).campaign!.disclosures;
    expect(result.confirmationMessage).toBe(own.optOutConfirmation);
    expect(await statusOf(key, C.id)).toBe("PENDING");
    expect(await statusOf(key, G.id)).toBe("OPTED_IN");
  });

  it.each(["CAMPAIGN", "SENDER"] as const)(
    "%s without campaignId is BAD_USER_INPUT naming input.campaignId, nothing written",
    async (scope) => {
      const { org, key, A } = await landscape();
      await refused(
        org,
        () => failure(key, OptOut, { input: { phone: PHONE, scope, method: "API" } }),
        { code: "BAD_USER_INPUT", field: "input.campaignId" },
      );
      expect(await statusOf(key, A.id)).toBe("OPTED_IN");
    },
  );
});
