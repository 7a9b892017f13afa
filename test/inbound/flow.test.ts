// Inbound messages end to end over real HTTP (receiveInboundMessage): the keyword lifecycle
// JOIN → Y → STOP → START, the scopes of STOP and STOPALL, HELP, opt-outs read from other words
// and their review, refusals that write nothing, the KeywordEvent as evidence, retries of one
// provider message, and the keywordEvents filters.
import { beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import type { InboundMessageInput, KeywordIntent } from "../generated/graphql.ts";
import { testApp } from "../support/app.ts";
import { createCampaign, createSender, disclosures } from "../support/fixtures.ts";
import { failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import {
  MarkKeywordEventReviewed,
  ReceiveInboundMessage,
  UpdateCampaign,
} from "../support/documents.ts";

// only the decision: the tests compare it whole
const CanSend = graphql(`
  query InbCanSend($phone: String!, $campaignId: ID!, $at: DateTime) {
    canSend(phone: $phone, campaignId: $campaignId, at: $at) {
      allowed
      reason
    }
  }
`);

const PHONE = "+14155550123";
const DAYTIME = "2025-01-15T20:00:00.000Z"; // 12:00 in San Francisco
const NIGHT = "2025-01-15T10:00:00.000Z"; // 02:00 in San Francisco

const KeywordEvents = graphql(`
  query InbKeywordEvents(
    $intent: KeywordIntent
    $needsReview: Boolean
    $campaignId: ID
    $receivedAfter: DateTime
    $receivedBefore: DateTime
  ) {
    keywordEvents(
      first: 100
      intent: $intent
      needsReview: $needsReview
      campaignId: $campaignId
      receivedAfter: $receivedAfter
      receivedBefore: $receivedBefore
    ) {
      edges {
        node {
          id
          body
          intent
          needsReview
          reviewedAt
        }
      }
    }
  }
`);

const Consents = graphql(`
  query InbSubscriberConsents($phone: String!) {
    subscriber(phone: $phone) {
      id
      consents {
        status
        campaign {
          id
        }
      }
    }
  }
`);

const Ledger = graphql(`
  query InbLedger {
    consentEvents(first: 100) {
      edges {
        node {
          id
          sequence
          toStatus
          method
          evidence
        }
      }
    }
  }
`);

type Org = Awaited<ReturnType<typeof newOrganization>>;

// the worker's server starts (and migrates) under the hook timeout, not the first test's
beforeAll(() => testApp(), 120_000);

async function receive(key: string, input: InboundMessageInput) {
  return (await ok(key, ReceiveInboundMessage, { input })).receiveInboundMessage;
}

async function statuses(key: string, phone = PHONE): Promise<Record<string, string>> {
  const subscriber = (await ok(key, Consents, { phone })).subscriber;
  return Object.fromEntries((subscriber?.consents ?? []).map((c) => [c.campaign.id, c.status]));
}

async function canSend(key: string, campaignId: string, at = DAYTIME, phone = PHONE) {
  return (await ok(key, CanSend, { phone, campaignId, at })).canSend;
}

interface KeywordEventFilter {
  intent?: KeywordIntent;
  needsReview?: boolean;
  campaignId?: string;
  receivedAfter?: string;
  receivedBefore?: string;
}

async function keywordEvents(key: string, filter: KeywordEventFilter = {}) {
  const data = await ok(key, KeywordEvents, filter);
  return data.keywordEvents.edges.map((e) => e.node);
}

/** A sender and its address, and campaigns on it named after their program. */
async function senderWith(org: Org) {
  return createSender(org.adminKey);
}

async function programCampaign(
  org: Org,
  senderId: string,
  programName: string,
  options: Parameters<typeof createCampaign>[1] = {},
) {
  const campaign = await createCampaign(org.adminKey, { ...options, senderId });
  await ok(org.adminKey, UpdateCampaign, {
    input: { id: campaign.id, disclosures: disclosures(programName) },
  });
  return campaign;
}

const prompt = (program: string) =>
  `${program}: reply Y to confirm your subscription. Up to 4 msgs/month. Msg & data rates may apply. Reply HELP for help, STOP to cancel.`;

describe("the keyword lifecycle", () => {
  it("JOIN → PENDING, Y → OPTED_IN, STOP → OPTED_OUT, START → OPTED_IN again", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const sender = await senderWith(org);
    const campaign = await programCampaign(org, sender.id, "Acme Alerts", {
      purpose: "INFORMATIONAL",
      doubleOptIn: true,
      keywords: ["JOIN"],
    });
    const texts = disclosures("Acme Alerts");
    const send = (body: string) => receive(key, { from: PHONE, to: sender.address, body });

    const join = await send("Join!");
    expect(join.duplicate).toBe(false);
    expect(join.reply).toBe(prompt("Acme Alerts"));
    expect(join.keywordEvent).toMatchObject({
      intent: "OPT_IN",
      keyword: "JOIN",
      needsReview: false,
    });
    expect(join.keywordEvent.campaigns).toEqual([{ id: campaign.id }]);
    expect(join.keywordEvent.consentEvents).toMatchObject([
      { fromStatus: null, toStatus: "PENDING", method: "KEYWORD", campaign: { id: campaign.id } },
    ]);
    expect(await statuses(key)).toEqual({ [campaign.id]: "PENDING" });
    expect(await canSend(key, campaign.id)).toEqual({
      allowed: false,
      reason: "PENDING_CONFIRMATION",
    });

    const yes = await send("Y");
    expect(yes.reply).toBe(texts.optInConfirmation);
    expect(yes.keywordEvent).toMatchObject({ intent: "CONFIRM", keyword: "Y" });
    expect(yes.keywordEvent.consentEvents).toMatchObject([
      { fromStatus: "PENDING", toStatus: "OPTED_IN", method: "KEYWORD" },
    ]);
    expect(await statuses(key)).toEqual({ [campaign.id]: "OPTED_IN" });
    expect(await canSend(key, campaign.id)).toEqual({ allowed: true, reason: "ALLOWED" });
    // informational: no quiet hours
    expect(await canSend(key, campaign.id, NIGHT)).toEqual({ allowed: true, reason: "ALLOWED" });

    const stop = await send("STOP");
    expect(stop.reply).toBe(texts.optOutConfirmation);
    expect(stop.keywordEvent).toMatchObject({
      intent: "OPT_OUT",
      keyword: "STOP",
      needsReview: false,
    });
    expect(stop.keywordEvent.consentEvents).toMatchObject([
      { fromStatus: "OPTED_IN", toStatus: "OPTED_OUT", method: "KEYWORD" },
    ]);
    expect(await statuses(key)).toEqual({ [campaign.id]: "OPTED_OUT" });
    expect(await canSend(key, campaign.id)).toEqual({ allowed: false, reason: "OPTED_OUT" });

    // a second STOP changes nothing and sends no second confirmation
    const again = await send("stop");
    expect(again.reply).toBeNull();
    expect(again.keywordEvent.consentEvents).toEqual([]);

    // START brings the number straight back, without a second double opt-in round
    const start = await send("START");
    expect(start.reply).toBe(texts.optInConfirmation);
    expect(start.keywordEvent).toMatchObject({ intent: "OPT_IN", keyword: "START" });
    expect(start.keywordEvent.consentEvents).toMatchObject([
      { fromStatus: "OPTED_OUT", toStatus: "OPTED_IN", method: "KEYWORD" },
    ]);
    expect(await statuses(key)).toEqual({ [campaign.id]: "OPTED_IN" });
    expect(await canSend(key, campaign.id)).toEqual({ allowed: true, reason: "ALLOWED" });

    // each message is one keyword event, in order
    const events = await keywordEvents(key);
    expect(events.map((e) => e.body)).toEqual(["Join!", "Y", "STOP", "stop", "START"]);
  });

  it("a MARKETING join keyword opts in at once; canSend then follows quiet hours", async () => {
    const org = await newOrganization();
    const sender = await senderWith(org);
    const campaign = await programCampaign(org, sender.id, "Acme Deals", { keywords: ["DEALS"] });
    const join = await receive(org.adminKey, { from: PHONE, to: sender.address, body: "deals" });
    expect(join.reply).toBe(disclosures("Acme Deals").optInConfirmation);
    expect(await statuses(org.adminKey)).toEqual({ [campaign.id]: "OPTED_IN" });
    expect(await canSend(org.adminKey, campaign.id, DAYTIME)).toEqual({
      allowed: true,
      reason: "ALLOWED",
    });
    expect(await canSend(org.adminKey, campaign.id, NIGHT)).toEqual({
      allowed: false,
      reason: "QUIET_HOURS",
    });
  });

  it("YES after an opt-out re-opts in, like START", async () => {
    const org = await newOrganization();
    const sender = await senderWith(org);
    const campaign = await programCampaign(org, sender.id, "Acme Deals", { keywords: ["DEALS"] });
    const send = (body: string) => receive(org.adminKey, { from: PHONE, to: sender.address, body });
    await send("DEALS");
    await send("STOP");
    const yes = await send("yes");
    expect(yes.keywordEvent.intent).toBe("CONFIRM");
    expect(yes.keywordEvent.consentEvents).toMatchObject([
      { fromStatus: "OPTED_OUT", toStatus: "OPTED_IN" },
    ]);
    expect(await statuses(org.adminKey)).toEqual({ [campaign.id]: "OPTED_IN" });
  });

  it("a join keyword matches with or without its accents", async () => {
    const org = await newOrganization();
    const sender = await senderWith(org);
    // two campaigns on the sender, so only the keyword can tell which one is meant
    const other = await programCampaign(org, sender.id, "Acme Deals", { keywords: ["DEALS"] });
    const promo = await programCampaign(org, sender.id, "Acme Promo", { keywords: ["PROMOCIÓN"] });
    for (const [from, body] of [
      ["+14155550124", "promoción"],
      ["+14155550125", "PROMOCION"],
    ]) {
      const result = await receive(org.adminKey, { from, to: sender.address, body });
      expect(result.keywordEvent.intent).toBe("OPT_IN");
      expect(result.keywordEvent.campaigns).toEqual([{ id: promo.id }]);
      expect(result.reply).toBe(disclosures("Acme Promo").optInConfirmation);
      expect(await statuses(org.adminKey, from)).toEqual({ [promo.id]: "OPTED_IN" });
    }
    expect(other.id).not.toBe(promo.id);
  });
});

describe("opt-out scopes", () => {
  /** Sender 1 carries A (ALPHA) and B (BRAVO), sender 2 carries G (GAMMA); PHONE joined A, B, G. */
  async function landscape() {
    const org = await newOrganization();
    const s1 = await senderWith(org);
    const s2 = await senderWith(org);
    const A = await programCampaign(org, s1.id, "Alpha Club", { keywords: ["ALPHA"] });
    const B = await programCampaign(org, s1.id, "Bravo Club", { keywords: ["BRAVO"] });
    const G = await programCampaign(org, s2.id, "Gamma Club", { keywords: ["GAMMA"] });
    const send = (to: string, body: string) => receive(org.adminKey, { from: PHONE, to, body });
    await send(s1.address, "ALPHA");
    await send(s1.address, "BRAVO");
    await send(s2.address, "GAMMA");
    expect(await statuses(org.adminKey)).toEqual({
      [A.id]: "OPTED_IN",
      [B.id]: "OPTED_IN",
      [G.id]: "OPTED_IN",
    });
    // the same number with another organization, which no message here may touch
    const elsewhere = await newOrganization();
    const s9 = await senderWith(elsewhere);
    const X = await programCampaign(elsewhere, s9.id, "Alpha Club", { keywords: ["ALPHA"] });
    await receive(elsewhere.adminKey, { from: PHONE, to: s9.address, body: "ALPHA" });
    return { org, s1, s2, A, B, G, send, elsewhere, X };
  }

  it("STOP on a sender revokes every campaign on that sender, and only those", async () => {
    const { org, s1, A, B, G, send, elsewhere, X } = await landscape();
    const stop = await send(s1.address, "STOP");
    expect(stop.keywordEvent.intent).toBe("OPT_OUT");
    expect(stop.keywordEvent.consentEvents.map((e) => e.campaign!.id).sort()).toEqual(
      [A.id, B.id].sort(),
    );
    expect(
      stop.keywordEvent.consentEvents.every(
        (e) => e.evidence && (e.evidence as any).scope === "SENDER",
      ),
    ).toBe(true);
    expect(stop.reply).toBe(
      "You're unsubscribed from Alpha Club, Bravo Club and will get no more messages. Reply START to rejoin.",
    );
    expect(await statuses(org.adminKey)).toEqual({
      [A.id]: "OPTED_OUT",
      [B.id]: "OPTED_OUT",
      [G.id]: "OPTED_IN",
    });
    expect(await canSend(org.adminKey, A.id)).toMatchObject({
      allowed: false,
      reason: "OPTED_OUT",
    });
    expect(await canSend(org.adminKey, G.id)).toMatchObject({ allowed: true });
    expect(await statuses(elsewhere.adminKey)).toEqual({ [X.id]: "OPTED_IN" });
  });

  it("STOPALL revokes every campaign of the organization, on every sender", async () => {
    const { org, s1, A, B, G, send, elsewhere, X } = await landscape();
    const stop = await send(s1.address, "StopAll");
    expect(stop.keywordEvent).toMatchObject({ intent: "OPT_OUT_ALL", keyword: "STOPALL" });
    expect(stop.keywordEvent.consentEvents.map((e) => e.campaign!.id).sort()).toEqual(
      [A.id, B.id, G.id].sort(),
    );
    expect(
      stop.keywordEvent.consentEvents.every((e) => (e.evidence as any).scope === "ORGANIZATION"),
    ).toBe(true);
    for (const program of ["Alpha Club", "Bravo Club", "Gamma Club"])
      expect(stop.reply).toContain(program);
    expect(stop.reply).toContain("Reply START to rejoin");
    expect(await statuses(org.adminKey)).toEqual({
      [A.id]: "OPTED_OUT",
      [B.id]: "OPTED_OUT",
      [G.id]: "OPTED_OUT",
    });
    for (const campaign of [A, B, G])
      expect(await canSend(org.adminKey, campaign.id)).toMatchObject({
        allowed: false,
        reason: "OPTED_OUT",
      });
    // another organization's consent for the same number stands
    expect(await statuses(elsewhere.adminKey)).toEqual({ [X.id]: "OPTED_IN" });
  });

  it("STOP from a number that never opted in leaves a suppression record for the sender's campaigns", async () => {
    const org = await newOrganization();
    const s1 = await senderWith(org);
    const s2 = await senderWith(org);
    const A = await programCampaign(org, s1.id, "Alpha Club");
    const G = await programCampaign(org, s2.id, "Gamma Club");
    const stop = await receive(org.adminKey, { from: PHONE, to: s1.address, body: "stop" });
    expect(stop.keywordEvent.consentEvents).toMatchObject([
      { fromStatus: null, toStatus: "OPTED_OUT", campaign: { id: A.id } },
    ]);
    expect(stop.reply).toBe(disclosures("Alpha Club").optOutConfirmation);
    expect(await statuses(org.adminKey)).toEqual({ [A.id]: "OPTED_OUT" });
    expect(await canSend(org.adminKey, G.id)).toMatchObject({ reason: "NO_CONSENT" });
  });
});

describe("HELP", () => {
  it("answers with the program, support contact, frequency, rates and STOP, and changes nothing", async () => {
    const org = await newOrganization();
    const sender = await senderWith(org);
    const campaign = await programCampaign(org, sender.id, "Acme Deals", { keywords: ["DEALS"] });
    await receive(org.adminKey, { from: PHONE, to: sender.address, body: "DEALS" });
    const before = await rowCounts(org.rowId);
    const statusBefore = await statuses(org.adminKey);

    for (const body of ["HELP", "info?"]) {
      const help = await receive(org.adminKey, { from: PHONE, to: sender.address, body });
      expect(help.keywordEvent.intent).toBe("HELP");
      expect(help.keywordEvent.consentEvents).toEqual([]);
      expect(help.keywordEvent.campaigns).toEqual([{ id: campaign.id }]);
      const reply = help.reply!;
      expect(reply).toContain("Acme Deals");
      expect(reply).toContain("support@acme.example");
      expect(reply).toContain("800-555-0100");
      expect(reply).toContain("Up to 4 msgs/month");
      expect(reply).toContain("Msg & data rates may apply");
      expect(reply).toContain("Reply STOP to cancel");
      expect(help.keywordEvent.reply).toBe(reply);
    }
    expect(await rowCounts(org.rowId)).toEqual({
      ...before,
      keywordEvents: before.keywordEvents + 2,
    });
    expect(await statuses(org.adminKey)).toEqual(statusBefore);
    expect(statusBefore).toEqual({ [campaign.id]: "OPTED_IN" });
  });

  it("answers a number it has never seen without creating a subscriber", async () => {
    const org = await newOrganization();
    const sender = await senderWith(org);
    await programCampaign(org, sender.id, "Acme Deals");
    const before = await rowCounts(org.rowId);
    const help = await receive(org.adminKey, { from: PHONE, to: sender.address, body: "Help!" });
    expect(help.reply).toContain("Reply STOP to cancel");
    expect(await rowCounts(org.rowId)).toEqual({
      ...before,
      keywordEvents: before.keywordEvents + 1,
    });
  });
});

describe("opt-outs in other words", () => {
  it("opts out, flags the message for review until someone marks it reviewed", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const sender = await senderWith(org);
    const campaign = await programCampaign(org, sender.id, "Acme Deals", { keywords: ["DEALS"] });
    await receive(key, { from: PHONE, to: sender.address, body: "DEALS" });
    // an exact STOP from another number is not for review
    await receive(key, { from: "+14155550124", to: sender.address, body: "STOP" });

    const plea = await receive(key, {
      from: PHONE,
      to: sender.address,
      body: "take me off your list",
    });
    expect(plea.keywordEvent).toMatchObject({
      intent: "OPT_OUT",
      keyword: null,
      needsReview: true,
      reviewedAt: null,
    });
    expect(plea.reply).toBe(disclosures("Acme Deals").optOutConfirmation);
    expect(await statuses(key)).toEqual({ [campaign.id]: "OPTED_OUT" });
    expect(await canSend(key, campaign.id)).toMatchObject({ allowed: false, reason: "OPTED_OUT" });

    const flagged = await keywordEvents(key, { needsReview: true });
    expect(flagged.map((e) => e.id)).toEqual([plea.keywordEvent.id]);

    const marked = (await ok(key, MarkKeywordEventReviewed, { id: plea.keywordEvent.id }))
      .markKeywordEventReviewed.keywordEvent;
    expect(marked.needsReview).toBe(true);
    expect(marked.reviewedAt).not.toBeNull();
    expect(await keywordEvents(key, { needsReview: true })).toEqual([]);
    const settled = await keywordEvents(key, { needsReview: false });
    expect(settled.map((e) => e.body)).toEqual(["DEALS", "STOP", "take me off your list"]);
    // the review does not undo the opt-out
    expect(await statuses(key)).toEqual({ [campaign.id]: "OPTED_OUT" });
    // marking again changes nothing
    const again = (await ok(key, MarkKeywordEventReviewed, { id: plea.keywordEvent.id }))
      .markKeywordEventReviewed.keywordEvent;
    expect(again.reviewedAt).toBe(marked.reviewedAt);
  });

  it("another organization cannot mark the message reviewed", async () => {
    const org = await newOrganization();
    const sender = await senderWith(org);
    await programCampaign(org, sender.id, "Acme Deals");
    const plea = await receive(org.adminKey, {
      from: PHONE,
      to: sender.address,
      body: "I no longer want these texts",
    });
    const other = await newOrganization();
    const refused = await failure(other.adminKey, MarkKeywordEventReviewed, {
      id: plea.keywordEvent.id,
    });
    expect(refused.extensions?.code).toBe("NOT_FOUND");
    expect(await keywordEvents(org.adminKey, { needsReview: true })).toHaveLength(1);
  });
});

describe("refused messages write nothing", () => {
  it("an unknown `to` is NOT_FOUND", async () => {
    const org = await newOrganization();
    const sender = await senderWith(org);
    await programCampaign(org, sender.id, "Acme Deals");
    const before = await rowCounts(org.rowId);
    const refused = await failure(org.adminKey, ReceiveInboundMessage, {
      input: { from: PHONE, to: "+14155559999", body: "STOP" },
    });
    expect(refused.extensions?.code).toBe("NOT_FOUND");
    expect(await rowCounts(org.rowId)).toEqual(before);
  });

  it("another organization's sender is NOT_FOUND too, and that organization is untouched", async () => {
    const org = await newOrganization();
    const other = await newOrganization();
    const theirs = await senderWith(other);
    await programCampaign(other, theirs.id, "Their Deals");
    const [mine, theirsBefore] = [await rowCounts(org.rowId), await rowCounts(other.rowId)];
    const refused = await failure(org.adminKey, ReceiveInboundMessage, {
      input: { from: PHONE, to: theirs.address, body: "STOP" },
    });
    expect(refused.extensions?.code).toBe("NOT_FOUND");
    expect(await rowCounts(org.rowId)).toEqual(mine);
    expect(await rowCounts(other.rowId)).toEqual(theirsBefore);
  });

  it.each(["not a phone", "+1", "12", ""])(
    "an invalid `from` (%j) is BAD_USER_INPUT",
    async (from) => {
      const org = await newOrganization();
      const sender = await senderWith(org);
      await programCampaign(org, sender.id, "Acme Deals");
      const before = await rowCounts(org.rowId);
      const refused = await failure(org.adminKey, ReceiveInboundMessage, {
        input: { from, to: sender.address, body: "STOP" },
      });
      expect(refused.extensions?.code).toBe("BAD_USER_INPUT");
      expect(refused.extensions?.field).toBe("input.from");
      expect(await rowCounts(org.rowId)).toEqual(before);
    },
  );
});

describe("the keyword event as evidence", () => {
  it("links the consent events it caused, stores the reply, and puts the message in the ledger", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const sender = await senderWith(org);
    const A = await programCampaign(org, sender.id, "Alpha Club", { keywords: ["ALPHA"] });
    const B = await programCampaign(org, sender.id, "Bravo Club", { keywords: ["BRAVO"] });
    await receive(key, { from: PHONE, to: sender.address, body: "ALPHA" });
    const receivedAt = new Date(Date.now() - 60_000).toISOString();
    const stop = await receive(key, {
      from: "(415) 555-0123",
      to: sender.address,
      body: "Stop!",
      providerMessageId: "SM-evidence-1",
      receivedAt,
    });
    const event = stop.keywordEvent;
    expect(event).toMatchObject({
      from: PHONE,
      to: sender.address,
      body: "Stop!",
      providerMessageId: "SM-evidence-1",
      receivedAt,
      sender: { id: sender.id },
      reply: stop.reply,
    });
    expect(stop.reply).not.toBeNull();
    expect(event.repliedAt).not.toBeNull();
    expect(event.consentEvents.map((e) => e.campaign!.id).sort()).toEqual([A.id, B.id].sort());
    expect(event.campaigns.map((c) => c.id).sort()).toEqual([A.id, B.id].sort());

    const message = {
      from: PHONE,
      to: sender.address,
      body: "Stop!",
      providerMessageId: "SM-evidence-1",
      receivedAt,
    };
    // the ledger itself holds those events, with the message and the reading of it
    const ledger = (await ok(key, Ledger)).consentEvents.edges.map((e) => e.node);
    const linked = ledger.filter((e) => event.consentEvents.some((c) => c.id === e.id));
    expect(linked).toHaveLength(2);
    for (const entry of linked) {
      expect(entry.method).toBe("KEYWORD");
      expect(entry.toStatus).toBe("OPTED_OUT");
      expect(entry.evidence).toMatchObject({
        message,
        keyword: "STOP",
        intent: "OPT_OUT",
        needsReview: false,
      });
    }
    // the opt-in by keyword carries its message too
    const optIn = ledger.find((e) => e.toStatus === "OPTED_IN")!;
    expect(optIn.evidence).toMatchObject({
      message: { body: "ALPHA", from: PHONE },
      keyword: "ALPHA",
    });
  });

  it("a repeated providerMessageId returns the first result and writes nothing; another message under it is a CONFLICT", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const sender = await senderWith(org);
    const campaign = await programCampaign(org, sender.id, "Acme Deals", { keywords: ["DEALS"] });
    await receive(key, { from: PHONE, to: sender.address, body: "DEALS" });
    const input = {
      from: PHONE,
      to: sender.address,
      body: "STOP",
      providerMessageId: "SM-retry-1",
    };
    const first = await receive(key, input);
    expect(first.duplicate).toBe(false);
    const before = await rowCounts(org.rowId);

    const again = await receive(key, input);
    expect(again.duplicate).toBe(true);
    expect(again.keywordEvent.id).toBe(first.keywordEvent.id);
    expect(again.reply).toBe(first.reply);
    expect(again.keywordEvent.consentEvents.map((e) => e.id)).toEqual(
      first.keywordEvent.consentEvents.map((e) => e.id),
    );
    for (const other of [
      { ...input, body: "START" },
      { ...input, from: "+14155550124" },
    ]) {
      const refused = await failure(key, ReceiveInboundMessage, { input: other });
      expect(refused).toMatchObject({
        extensions: { code: "CONFLICT", field: "input.providerMessageId" },
      });
      expect(refused.message).not.toContain("STOP");
    }
    expect(await rowCounts(org.rowId)).toEqual(before);
    expect(await statuses(key)).toEqual({ [campaign.id]: "OPTED_OUT" });

    // the id is the provider's id within one organization: another organization processes its own
    const other = await newOrganization();
    const theirs = await senderWith(other);
    await programCampaign(other, theirs.id, "Their Deals");
    const elsewhere = await receive(other.adminKey, { ...input, to: theirs.address });
    expect(elsewhere.duplicate).toBe(false);
    expect(elsewhere.keywordEvent.id).not.toBe(first.keywordEvent.id);
  });
});

describe("keywordEvents filters", () => {
  it("by intent, campaign and received time", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const s1 = await senderWith(org);
    const s2 = await senderWith(org);
    const A = await programCampaign(org, s1.id, "Alpha Club", { keywords: ["ALPHA"] });
    const B = await programCampaign(org, s2.id, "Bravo Club", { keywords: ["BRAVO"] });
    const hour = 3_600_000;
    const now = Date.now();
    const at = (hoursAgo: number) => new Date(now - hoursAgo * hour).toISOString();
    const send = (to: string, body: string, hoursAgo: number) =>
      receive(key, { from: PHONE, to, body, receivedAt: at(hoursAgo) });
    await send(s1.address, "ALPHA", 4); // OPT_IN, A
    await send(s2.address, "HELP", 3); // HELP, B
    await send(s1.address, "hello?", 2); // UNKNOWN, none
    await send(s2.address, "BRAVO", 1.5); // OPT_IN, B
    await send(s1.address, "STOP", 1); // OPT_OUT, A

    const bodies = async (filter: KeywordEventFilter) =>
      (await keywordEvents(key, filter)).map((e) => e.body);

    expect(await bodies({})).toEqual(["ALPHA", "HELP", "hello?", "BRAVO", "STOP"]);
    expect(await bodies({ intent: "OPT_IN" })).toEqual(["ALPHA", "BRAVO"]);
    expect(await bodies({ intent: "HELP" })).toEqual(["HELP"]);
    expect(await bodies({ intent: "UNKNOWN" })).toEqual(["hello?"]);
    expect(await bodies({ intent: "OPT_OUT" })).toEqual(["STOP"]);
    expect(await bodies({ intent: "OPT_OUT_ALL" })).toEqual([]);
    expect(await bodies({ campaignId: A.id })).toEqual(["ALPHA", "STOP"]);
    expect(await bodies({ campaignId: B.id })).toEqual(["HELP", "BRAVO"]);
    // receivedAfter is inclusive, receivedBefore exclusive
    expect(await bodies({ receivedAfter: at(2) })).toEqual(["hello?", "BRAVO", "STOP"]);
    expect(await bodies({ receivedBefore: at(2) })).toEqual(["ALPHA", "HELP"]);
    expect(await bodies({ receivedAfter: at(3), receivedBefore: at(1.5) })).toEqual([
      "HELP",
      "hello?",
    ]);
    expect(await bodies({ intent: "OPT_IN", receivedAfter: at(2) })).toEqual(["BRAVO"]);
    expect(await bodies({ campaignId: B.id, intent: "OPT_IN" })).toEqual(["BRAVO"]);
    expect(await bodies({ receivedAfter: at(0.5) })).toEqual([]);

    // another organization sees none of them
    const other = await newOrganization();
    expect(await keywordEvents(other.adminKey)).toEqual([]);
    const refused = await ok(other.adminKey, KeywordEvents, { campaignId: A.id });
    expect(refused.keywordEvents.edges).toEqual([]);
  });
});
