// Idempotency keys on optIn and optOut: a retry with the same key and input gets the first result
// back and writes nothing; the same key with other input (or another operation) is a CONFLICT
// that writes nothing; keys belong to one organization.
import { describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { failure, newOrganization, rowCounts } from "../support/graphql.ts";
import { OptIn, OptOut, consentOf, ledger, optIn, optOut, refused, type Org } from "./ops.ts";

const PHONE = "+14155550142";

async function counts(org: Org) {
  const app = await testApp();
  return {
    ...(await rowCounts(org.rowId)),
    idempotency: await app.db.prisma.idempotencyRecord.count({
      where: { organizationId: org.rowId },
    }),
  };
}

describe("idempotency keys", () => {
  it("optIn replayed with the same key returns the same event and writes nothing", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey, { doubleOptIn: true });
    const input = {
      phone: PHONE,
      campaignId: campaign.id,
      method: "WEB_FORM" as const,
      evidence: { ip: "198.51.100.7" },
      idempotencyKey: "signup-42",
    };
    const first = await optIn(org.adminKey, input);
    expect(first.changed).toBe(true);
    const written = await counts(org);
    expect(written.idempotency).toBe(1);

    for (let i = 0; i < 3; i++) {
      // the same request, even with the phone written differently
      const retry = await optIn(org.adminKey, {
        ...input,
        phone: i === 1 ? "(415) 555-0142" : PHONE,
      });
      expect(retry.event).toMatchObject({ id: first.event!.id, sequence: first.event!.sequence });
      expect(retry.changed).toBe(true);
      expect(retry.confirmationMessage).toBe(first.confirmationMessage);
      expect(retry.consent.id).toBe(first.consent.id);
      expect(await counts(org)).toEqual(written);
    }
    expect(await ledger(org.adminKey)).toHaveLength(1);
  });

  it("optIn with a used key and different input is a CONFLICT and writes nothing", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const other = await createCampaign(org.adminKey);
    const input = {
      phone: PHONE,
      campaignId: campaign.id,
      method: "API" as const,
      idempotencyKey: "k-1",
    };
    await optIn(org.adminKey, input);
    const variants = [
      { ...input, phone: "+14155550143" },
      { ...input, campaignId: other.id },
      { ...input, method: "WEB_FORM" as const },
      { ...input, evidence: { ip: "192.0.2.1" } },
    ];
    for (const variant of variants) {
      await refused(org, () => failure(org.adminKey, OptIn, { input: variant }), {
        code: "CONFLICT",
        message: /idempotencyKey "k-1" was already used/,
      });
    }
    // the key was used by optIn: optOut may not reuse it either
    await refused(
      org,
      () =>
        failure(org.adminKey, OptOut, {
          input: { phone: PHONE, campaignId: campaign.id, method: "API", idempotencyKey: "k-1" },
        }),
      { code: "CONFLICT" },
    );
    expect(await consentOf(org.adminKey, "+14155550143", campaign.id)).toBeNull();
    expect(await consentOf(org.adminKey, PHONE, other.id)).toBeNull();
  });

  it("optOut replayed with the same key returns the same events and writes nothing", async () => {
    const org = await newOrganization();
    const a = await createCampaign(org.adminKey);
    const b = await createCampaign(org.adminKey);
    await optIn(org.adminKey, { phone: PHONE, campaignId: a.id });
    await optIn(org.adminKey, { phone: PHONE, campaignId: b.id });
    const input = { phone: PHONE, scope: "ORGANIZATION" as const, idempotencyKey: "stop-1" };
    const first = await optOut(org.adminKey, input);
    expect(first.events).toHaveLength(2);
    const written = await counts(org);
    const retry = await optOut(org.adminKey, input);
    expect(retry.events.map((e) => [e.id, e.sequence])).toEqual(
      first.events.map((e) => [e.id, e.sequence]),
    );
    expect(retry.changed).toBe(true);
    expect(retry.confirmationMessage).toBe(first.confirmationMessage);
    expect(await counts(org)).toEqual(written);

    await refused(
      org,
      () =>
        failure(org.adminKey, OptOut, {
          input: { ...input, scope: "CAMPAIGN", campaignId: a.id, method: "API" },
        }),
      { code: "CONFLICT", field: "input.idempotencyKey" },
    );
  });

  it("a late retry of an opt-in does not undo a later opt-out", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const input = { phone: PHONE, campaignId: campaign.id, idempotencyKey: "join-7" };
    const first = await optIn(org.adminKey, input);
    await optOut(org.adminKey, { phone: PHONE, campaignId: campaign.id });
    const written = await counts(org);
    const retry = await optIn(org.adminKey, input);
    expect(retry.event!.id).toBe(first.event!.id);
    expect(await counts(org)).toEqual(written);
    expect((await consentOf(org.adminKey, PHONE, campaign.id))?.status).toBe("OPTED_OUT");
  });

  it("keys belong to one organization", async () => {
    const one = await newOrganization();
    const two = await newOrganization();
    const c1 = await createCampaign(one.adminKey);
    const c2 = await createCampaign(two.adminKey);
    const a = await optIn(one.adminKey, {
      phone: PHONE,
      campaignId: c1.id,
      idempotencyKey: "shared",
    });
    const b = await optIn(two.adminKey, {
      phone: PHONE,
      campaignId: c2.id,
      idempotencyKey: "shared",
    });
    expect(b.changed).toBe(true);
    expect(b.event!.id).not.toBe(a.event!.id);
    expect(b.event!.sequence).toBe(1);
  });
});
