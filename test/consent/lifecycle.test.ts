// The consent lifecycle over GraphQL: every state × every action (with double opt-in on and off),
// what each writes to the ledger (one event per change, none for a no-op), the texts handed back,
// the re-opt-in rule after an opt-out, confirmation and expiry of double opt-ins.
import { describe, expect, it } from "vitest";
import type { ConsentStatus } from "../generated/graphql.ts";
import { recordQueries, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import { expirePendingConsents } from "../../src/services/consents.ts";
import { SEND_CACHE_SQL_TAG } from "../../src/services/send-cache-reads.ts";
import { until } from "../streams/support.ts";
import {
  CampaignTexts,
  CanSend,
  ConfirmOptIn,
  confirmation,
  METHODS,
  UpdateCampaign,
  confirmOptIn,
  consentOf,
  expireNow,
  ledger,
  optIn,
  optOut,
  reach,
  refused,
  rowId,
  verifyLedger,
  type From,
  type Org,
} from "./ops.ts";

const PHONE = "+14155550199";

type Action = "optIn" | "confirmOptIn" | "optOut";
type Outcome = { to: ConsentStatus; changed: boolean } | "CONFLICT";

const to = (status: ConsentStatus): Outcome => ({ to: status, changed: true });
const same = (status: ConsentStatus): Outcome => ({ to: status, changed: false });

/**
 * Expected outcome of each action from each state. Opt-ins come from an integration (method API).
 * Without double opt-in, PENDING and EXPIRED are reached by an integration re-adding a number that
 * opted out, and such a number only counts again after the subscriber's "Y".
 */
const table: [From, Action, boolean, Outcome][] = [
  ["none", "optIn", true, to("PENDING")],
  ["none", "optIn", false, to("OPTED_IN")],
  ["none", "confirmOptIn", true, "CONFLICT"],
  ["none", "confirmOptIn", false, "CONFLICT"],
  ["none", "optOut", true, to("OPTED_OUT")],
  ["none", "optOut", false, to("OPTED_OUT")],

  ["PENDING", "optIn", true, same("PENDING")],
  ["PENDING", "optIn", false, same("PENDING")],
  ["PENDING", "confirmOptIn", true, to("OPTED_IN")],
  ["PENDING", "confirmOptIn", false, to("OPTED_IN")],
  ["PENDING", "optOut", true, to("OPTED_OUT")],
  ["PENDING", "optOut", false, to("OPTED_OUT")],

  ["OPTED_IN", "optIn", true, same("OPTED_IN")],
  ["OPTED_IN", "optIn", false, same("OPTED_IN")],
  ["OPTED_IN", "confirmOptIn", true, same("OPTED_IN")],
  ["OPTED_IN", "confirmOptIn", false, same("OPTED_IN")],
  ["OPTED_IN", "optOut", true, to("OPTED_OUT")],
  ["OPTED_IN", "optOut", false, to("OPTED_OUT")],

  ["OPTED_OUT", "optIn", true, to("PENDING")],
  ["OPTED_OUT", "optIn", false, to("PENDING")],
  ["OPTED_OUT", "confirmOptIn", true, "CONFLICT"],
  ["OPTED_OUT", "confirmOptIn", false, "CONFLICT"],
  ["OPTED_OUT", "optOut", true, same("OPTED_OUT")],
  ["OPTED_OUT", "optOut", false, same("OPTED_OUT")],

  ["EXPIRED", "optIn", true, to("PENDING")],
  ["EXPIRED", "optIn", false, to("PENDING")],
  ["EXPIRED", "confirmOptIn", true, "CONFLICT"],
  ["EXPIRED", "confirmOptIn", false, "CONFLICT"],
  ["EXPIRED", "optOut", true, to("OPTED_OUT")],
  ["EXPIRED", "optOut", false, to("OPTED_OUT")],
];

async function texts(key: string, campaignId: string) {
  const data = await ok(key, CampaignTexts, { id: campaignId });
  return data.campaign!.disclosures;
}

/** The double opt-in prompt: program name, rates, how to confirm (Y), how to cancel (STOP). */
function expectPrompt(message: string | null | undefined, programName: string) {
  expect(message).toBeTruthy();
  expect(message).toContain(programName);
  expect(message).toContain("Msg & data rates may apply");
  expect(message).toMatch(/\bY\b/);
  expect(message).toMatch(/\bSTOP\b/);
}

async function setUp(doubleOptIn: boolean) {
  const org = await newOrganization();
  const campaign = await createCampaign(org.adminKey, { doubleOptIn });
  return { org, campaign: { ...campaign, doubleOptIn } };
}

describe("every transition over GraphQL", () => {
  it.each(table)("%s × %s (double opt-in %s) → %j", async (from, action, doubleOptIn, expected) => {
    const { org, campaign } = await setUp(doubleOptIn);
    const key = org.adminKey;
    await reach(key, campaign, PHONE, from);
    const base = { phone: PHONE, campaignId: campaign.id };
    const before = await ledger(key);
    const countsBefore = await rowCounts(org.rowId);
    const disclosures = await texts(key, campaign.id);

    if (expected === "CONFLICT") {
      await refused(org, () => failure(key, ConfirmOptIn, { input: confirmation(base) }), {
        code: "CONFLICT",
        message: /no (pending )?opt-in to confirm/,
      });
      const after = await consentOf(key, PHONE, campaign.id);
      expect(after?.status ?? "none").toBe(from);
      return;
    }

    let changed: boolean;
    let status: ConsentStatus;
    let event: {
      id: string;
      sequence: number;
      fromStatus?: string | null;
      toStatus: string;
      method: string;
    } | null;
    let message: string | null | undefined;
    let method: string;
    if (action === "optIn") {
      const r = await optIn(key, base);
      ({ changed, confirmationMessage: message, event } = r);
      status = r.consent.status;
      method = "API";
    } else if (action === "confirmOptIn") {
      const r = await confirmOptIn(key, base);
      ({ changed, event } = r);
      status = r.consent.status;
      message = undefined;
      method = "KEYWORD";
    } else {
      const r = await optOut(key, base);
      changed = r.changed;
      message = r.confirmationMessage;
      expect(r.consents).toHaveLength(1);
      status = r.consents[0].status;
      expect(r.events.length).toBe(r.changed ? 1 : 0);
      event = r.events[0] ?? null;
      method = "API";
    }

    expect(status).toBe(expected.to);
    expect(changed).toBe(expected.changed);
    expect((await consentOf(key, PHONE, campaign.id))?.status).toBe(expected.to);
    const after = await ledger(key);

    if (!expected.changed) {
      expect(event).toBeNull();
      expect(after).toEqual(before);
      // a confirmation that changes nothing still keeps the reply it carried, as any inbound message
      expect(await rowCounts(org.rowId)).toEqual({
        ...countsBefore,
        keywordEvents: countsBefore.keywordEvents + (action === "confirmOptIn" ? 1 : 0),
      });
      if (action !== "confirmOptIn") expect(message).toBeNull();
      return;
    }

    expect(event).not.toBeNull();
    expect(event).toMatchObject({
      sequence: before.length + 1,
      fromStatus: from === "none" ? null : from,
      toStatus: expected.to,
      method,
    });
    expect(after).toHaveLength(before.length + 1);
    expect(after.slice(0, -1)).toEqual(before);
    expect(after.at(-1)).toMatchObject({ id: event!.id, sequence: before.length + 1 });
    expect(after.at(-1)!.prevHash).toBe(before.at(-1)?.hash ?? "");

    if (action === "optIn") {
      if (expected.to === "PENDING") expectPrompt(message, disclosures.programName);
      else expect(message).toBe(disclosures.optInConfirmation);
    } else if (action === "optOut") {
      expect(message).toBe(disclosures.optOutConfirmation);
    }
    expect(await verifyLedger(key)).toEqual({
      ok: true,
      eventsChecked: before.length + 1,
      firstBrokenEventId: null,
    });
  });
});

describe("opting in again after an opt-out", () => {
  it.each(METHODS)(
    "an integration re-adding an opted-out number through %s gets PENDING even with double opt-in off",
    async (method) => {
      const { org, campaign } = await setUp(false);
      const key = org.adminKey;
      const base = { phone: PHONE, campaignId: campaign.id };
      expect((await optIn(key, base)).consent.status).toBe("OPTED_IN");
      await optOut(key, base);

      const again = await optIn(key, { ...base, method });
      expect(again.changed).toBe(true);
      expect(again.consent.status).toBe("PENDING");
      expect(again.event).toMatchObject({ fromStatus: "OPTED_OUT", toStatus: "PENDING", method });
      expectPrompt(again.confirmationMessage, (await texts(key, campaign.id)).programName);
      const decision = await ok(key, CanSend, base);
      expect(decision.canSend).toMatchObject({ allowed: false, reason: "PENDING_CONFIRMATION" });

      // only the subscriber's "Y" brings it back
      const confirmed = await confirmOptIn(key, base);
      expect(confirmed).toMatchObject({
        changed: true,
        consent: { status: "OPTED_IN" },
        event: { fromStatus: "PENDING", toStatus: "OPTED_IN", method: "KEYWORD" },
      });
    },
  );

  it("a retried re-add does not confirm itself: the consent stays PENDING and nothing is written", async () => {
    const { org, campaign } = await setUp(false);
    const key = org.adminKey;
    const base = { phone: PHONE, campaignId: campaign.id };
    await optIn(key, base);
    await optOut(key, base);
    expect((await optIn(key, base)).consent.status).toBe("PENDING");
    const counts = await rowCounts(org.rowId);
    for (const method of ["API", "WEB_FORM", "IMPORT"] as const) {
      const retry = await optIn(key, { ...base, method });
      expect(retry).toMatchObject({ changed: false, event: null, consent: { status: "PENDING" } });
    }
    expect(await rowCounts(org.rowId)).toEqual(counts);
    expect((await ok(key, CanSend, base)).canSend.reason).toBe("PENDING_CONFIRMATION");
  });

  it("an unconfirmed re-add that expired is not revived as OPTED_IN by the next integration call", async () => {
    const { org, campaign } = await setUp(false);
    const key = org.adminKey;
    const base = { phone: PHONE, campaignId: campaign.id };
    await optIn(key, base);
    await optOut(key, base);
    const pending = await optIn(key, base);
    await expireNow(pending.consent.id);
    expect((await consentOf(key, PHONE, campaign.id))?.status).toBe("EXPIRED");

    const again = await optIn(key, base);
    expect(again.consent.status).toBe("PENDING");
    expect(again.event).toMatchObject({ fromStatus: "EXPIRED", toStatus: "PENDING" });
    expect((await ok(key, CanSend, base)).canSend.allowed).toBe(false);
  });

  it("a number that never opted out counts at once once double opt-in is turned off", async () => {
    const { org, campaign } = await setUp(true);
    const key = org.adminKey;
    const base = { phone: PHONE, campaignId: campaign.id };
    expect((await optIn(key, base)).consent.status).toBe("PENDING");
    await ok(key, UpdateCampaign, { input: { id: campaign.id, doubleOptIn: false } });
    const again = await optIn(key, base);
    expect(again).toMatchObject({
      changed: true,
      consent: { status: "OPTED_IN" },
      event: { fromStatus: "PENDING", toStatus: "OPTED_IN" },
    });
    expect(again.confirmationMessage).toBe((await texts(key, campaign.id)).optInConfirmation);
  });

  it("an opt-in that happened before the opt-out it would undo is stale: the opt-out stands", async () => {
    const { org, campaign } = await setUp(false);
    const key = org.adminKey;
    const base = { phone: PHONE, campaignId: campaign.id };
    await optIn(key, base);
    await optOut(key, base);
    const counts = await rowCounts(org.rowId);
    const stale = await optIn(key, {
      ...base,
      method: "IMPORT",
      occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
    });
    expect(stale).toMatchObject({ changed: false, event: null, consent: { status: "OPTED_OUT" } });
    expect(await rowCounts(org.rowId)).toEqual(counts);
  });

  it("records occurredAt in the past for imports and the evidence with the consent-language version", async () => {
    const { org, campaign } = await setUp(false);
    const occurredAt = "2024-03-01T12:34:56.789Z";
    const evidence = {
      ip: "203.0.113.9",
      userAgent: "Mozilla/5.0",
      pageUrl: "https://acme.example/join",
      form: "footer",
    };
    const result = await optIn(org.adminKey, {
      phone: PHONE,
      campaignId: campaign.id,
      method: "IMPORT",
      occurredAt,
      evidence,
    });
    expect(result.event).toMatchObject({ method: "IMPORT", occurredAt });
    // the campaign's first disclosures are from today: none was in force in 2024, and it says so
    expect(result.event!.evidence).toMatchObject({
      ...evidence,
      consentLanguage: {
        version: null,
        note: expect.stringMatching(/no disclosures of this campaign were in force/),
      },
    });
    const later = await optIn(org.adminKey, {
      phone: "+14155550142",
      campaignId: campaign.id,
      method: "IMPORT",
      evidence,
    });
    expect(later.event!.evidence).toMatchObject({
      consentLanguage: { version: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });
});

describe("confirmOptIn", () => {
  it("with no pending consent is a CONFLICT and writes nothing", async () => {
    const { org, campaign } = await setUp(true);
    const other = await createCampaign(org.adminKey, { doubleOptIn: true });
    const key = org.adminKey;
    // a number the organization has never seen
    await refused(
      org,
      () =>
        failure(key, ConfirmOptIn, {
          input: confirmation({ phone: PHONE, campaignId: campaign.id }),
        }),
      { code: "CONFLICT", message: /no opt-in to confirm/ },
    );
    // a number pending for another campaign only
    await optIn(key, { phone: PHONE, campaignId: other.id });
    await refused(
      org,
      () =>
        failure(key, ConfirmOptIn, {
          input: confirmation({ phone: PHONE, campaignId: campaign.id }),
        }),
      { code: "CONFLICT" },
    );
    expect((await consentOf(key, PHONE, other.id))?.status).toBe("PENDING");
    expect(await consentOf(key, PHONE, campaign.id)).toBeNull();
  });

  it("is recorded as the subscriber's reply: method KEYWORD, citing the KeywordEvent of its message", async () => {
    const { org, campaign } = await setUp(true);
    const base = { phone: PHONE, campaignId: campaign.id };
    await optIn(org.adminKey, base);
    const input = confirmation(base);
    const confirmed = await ok(org.adminKey, ConfirmOptIn, { input });
    expect(confirmed.confirmOptIn.event).toMatchObject({ toStatus: "OPTED_IN", method: "KEYWORD" });
    const app = await testApp();
    const event = await app.db.prisma.consentEvent.findFirstOrThrow({
      where: { id: rowId(confirmed.confirmOptIn.event!.id) },
      include: { keywordEvent: true },
    });
    expect(event.keywordEvent).toMatchObject({
      from: PHONE,
      body: "Y",
      providerMessageId: input.message!.providerMessageId,
      intent: "CONFIRM",
    });
    expect(event.evidence).toMatchObject({
      message: { from: PHONE, body: "Y", providerMessageId: input.message!.providerMessageId },
    });
  });
});

describe("expiry of unconfirmed double opt-ins", () => {
  async function pendingConsent(org: Org) {
    const campaign = await createCampaign(org.adminKey, { doubleOptIn: true });
    const result = await optIn(org.adminKey, { phone: PHONE, campaignId: campaign.id });
    expect(result.consent.status).toBe("PENDING");
    // the window is the configured TTL (72 hours by default) after the request
    const ttl = new Date(result.consent.expiresAt!).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(71 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(72 * 3_600_000);
    return { campaign, consentId: result.consent.id };
  }

  it("the sweeper turns a PENDING consent whose window passed into EXPIRED, with one ledger event", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const { campaign, consentId } = await pendingConsent(org);
    const app = await testApp();
    const before = await ledger(key);

    // the window ends 10 minutes ago: a sweep just before it leaves the consent alone
    const expiresAt = new Date(Date.now() - 10 * 60_000);
    await app.db.prisma.consent.update({ where: { id: rowId(consentId) }, data: { expiresAt } });
    await expirePendingConsents(app.runtime, new Date(expiresAt.getTime() - 1));
    // (the app's own once-a-minute sweeper may run meanwhile; it sweeps at the real time)
    const early = await ledger(key);
    if (early.length === before.length) {
      expect((await consentOf(key, PHONE, campaign.id))?.status).toBe("PENDING");
    }

    await expirePendingConsents(app.runtime, new Date(expiresAt.getTime() + 1));
    const consent = await consentOf(key, PHONE, campaign.id);
    expect(consent).toMatchObject({ status: "EXPIRED", expiresAt: null });
    const after = await ledger(key);
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toMatchObject({
      sequence: before.length + 1,
      fromStatus: "PENDING",
      toStatus: "EXPIRED",
      method: "API",
      occurredAt: expiresAt.toISOString(),
      consent: { id: consentId },
    });

    // sweeping again changes nothing
    const counts = await rowCounts(org.rowId);
    await expirePendingConsents(app.runtime, new Date());
    expect(await rowCounts(org.rowId)).toEqual(counts);
    expect(await verifyLedger(key)).toMatchObject({ ok: true, eventsChecked: after.length });
    const decision = await ok(key, CanSend, { phone: PHONE, campaignId: campaign.id });
    expect(decision.canSend).toMatchObject({ allowed: false, reason: "NO_CONSENT" });
  });

  it("a consent within its window is not swept", async () => {
    const org = await newOrganization();
    const { campaign } = await pendingConsent(org);
    const app = await testApp();
    const counts = await rowCounts(org.rowId);
    await expirePendingConsents(app.runtime, new Date());
    expect(await rowCounts(org.rowId)).toEqual(counts);
    expect((await consentOf(org.adminKey, PHONE, campaign.id))?.status).toBe("PENDING");
  });

  it("confirmOptIn after the window is a CONFLICT and writes nothing", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const { campaign, consentId } = await pendingConsent(org);
    const app = await testApp();
    const expiresAt = new Date(Date.now() - 1000);
    await app.db.prisma.consent.update({ where: { id: rowId(consentId) }, data: { expiresAt } });
    const error = await refused(
      org,
      () =>
        failure(key, ConfirmOptIn, {
          input: confirmation({ phone: PHONE, campaignId: campaign.id }),
        }),
      { code: "CONFLICT", message: /expired/i },
    );
    expect(error.message).toMatch(/opt in again|EXPIRED/);
    expect((await ok(key, CanSend, { phone: PHONE, campaignId: campaign.id })).canSend.reason).toBe(
      "NO_CONSENT",
    );

    // after the sweep it is EXPIRED, and a confirmation is still refused
    await expireNow(consentId);
    expect((await consentOf(key, PHONE, campaign.id))?.status).toBe("EXPIRED");
    await refused(
      org,
      () =>
        failure(key, ConfirmOptIn, {
          input: confirmation({ phone: PHONE, campaignId: campaign.id }),
        }),
      { code: "CONFLICT", message: /EXPIRED/ },
    );
  });
});

describe("the expiry sweep", () => {
  it("sends one statement when nothing is due (it runs every minute on every instance)", async () => {
    const app = await testApp();
    // The send cache confirms what it holds on its own clock and on every wake-up, whatever a
    // test is doing: its reads can land while the sweep is recorded. Force one to.
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const ask = () => ok(org.adminKey, CanSend, { phone: PHONE, campaignId: campaign.id });
    await until(async () => {
      await ask();
      return app.runtime.sendCache.status(org.rowId) === "held";
    }, "the send cache to hold the organization");
    // nothing can have lapsed before 1970
    const { result, queries } = await recordQueries(async () => {
      app.runtime.wakeups.publish(org.rowId);
      const expired = await expirePendingConsents(app.runtime, new Date(0));
      await until(() => app.runtime.sendCache.status(org.rowId) === "held", "the cache's read");
      return expired;
    });
    expect(result).toBe(0);
    expect(queries.some((sql) => sql.includes(SEND_CACHE_SQL_TAG))).toBe(true);
    const sweeps = queries.filter((sql) => !sql.includes(SEND_CACHE_SQL_TAG));
    expect(sweeps, queries.join("\n---\n")).toHaveLength(1);
  });
});
