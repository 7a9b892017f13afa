// The review queue end to end over real HTTP: a held message resolved both ways and an applied
// opt-out reversed, each step visible in the ledger (events in order, evidence citing the review,
// the chain verified); the deadline sweep with a controlled clock; who may decide; one decision
// only, however many arrive at once; the queue by due date and the overdue gauge.
import { beforeAll, describe, expect, it } from "vitest";
import { applyOverdueReviews } from "../../src/services/keyword-reviews.ts";
import { graphql } from "../generated/gql.ts";
import type { ReviewDecision, Role } from "../generated/graphql.ts";
import { testApp } from "../support/app.ts";
import { createCampaign, createSender, uniqueLongCode } from "../support/fixtures.ts";
import { execute, failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import { CreateApiKey, OptIn, OptOut, ReceiveInboundMessage } from "../support/documents.ts";

// only the review fields: the test compares them whole
const MarkReviewed = graphql(`
  mutation ReviewMark($id: ID!) {
    markKeywordEventReviewed(input: { id: $id }) {
      keywordEvent {
        reviewDecision
        reviewNote
      }
    }
  }
`);

const Resolve = graphql(`
  mutation ReviewResolve($input: ResolveKeywordReviewInput!) {
    resolveKeywordReview(input: $input) {
      keywordEvent {
        id
        needsReview
        review
        reviewDecision
        reviewNote
        reviewedAt
        reviewedAtDeadline
        reviewedBy {
          id
        }
        consentEvents {
          sequence
          fromStatus
          toStatus
          method
          evidence
          campaign {
            id
          }
        }
      }
      consentEvents {
        id
        sequence
        fromStatus
        toStatus
        method
        evidence
        campaign {
          id
        }
      }
    }
  }
`);

const Message = graphql(`
  query ReviewMessage($id: ID!) {
    node(id: $id) {
      ... on KeywordEvent {
        id
        review
        reviewDecision
        reviewNote
        reviewedAt
        reviewedAtDeadline
        reviewedBy {
          id
        }
        consentEvents {
          sequence
          fromStatus
          toStatus
          method
          evidence
        }
      }
    }
  }
`);

const Queue = graphql(`
  query ReviewQueue($overdue: Boolean, $first: Int, $after: String) {
    keywordReviews(first: $first, after: $after, overdue: $overdue) {
      edges {
        cursor
        node {
          id
          review
          reviewDueAt
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

const History = graphql(`
  query ReviewHistory($phone: String!) {
    subscriber(phone: $phone) {
      consents {
        status
        campaign {
          id
        }
      }
      history(first: 20) {
        edges {
          node {
            sequence
            fromStatus
            toStatus
            method
            evidence
            campaign {
              id
            }
          }
        }
      }
    }
    verifyLedger {
      ok
      firstBrokenEventId
    }
  }
`);

beforeAll(() => testApp(), 120_000);

/** An organization with a sender running campaigns A and B, and campaign E on another sender. */
async function scene() {
  const org = await newOrganization();
  const sender = await createSender(org.adminKey);
  const a = await createCampaign(org.adminKey, { senderId: sender.id });
  const b = await createCampaign(org.adminKey, { senderId: sender.id });
  const e = await createCampaign(org.adminKey);
  const phone = uniqueLongCode();
  for (const campaign of [a, b, e]) {
    await ok(org.adminKey, OptIn, { input: { phone, campaignId: campaign.id, method: "API" } });
  }
  const key = async (role: Role, campaignIds?: string[]) =>
    (await ok(org.adminKey, CreateApiKey, { input: { name: role, role, campaignIds } }))
      .createApiKey;
  const receive = async (body: string, receivedAt?: string) =>
    (
      await ok(org.adminKey, ReceiveInboundMessage, {
        input: { from: phone, to: sender.address, body, receivedAt },
      })
    ).receiveInboundMessage.keywordEvent;
  const resolve = (apiKey: string, id: string, decision: ReviewDecision, note?: string) =>
    execute(apiKey, Resolve, { input: { id, decision, note } });
  const history = async () => {
    const data = await ok(org.adminKey, History, { phone });
    expect(data.verifyLedger).toEqual({ ok: true, firstBrokenEventId: null });
    const status = Object.fromEntries(
      data.subscriber!.consents.map((c) => [c.campaign.id, c.status]),
    );
    return { status, events: data.subscriber!.history.edges.map((edge) => edge.node) };
  };
  return { org, sender, a, b, e, phone, key, receive, resolve, history };
}

const reviewOf = (evidence: unknown) => (evidence as { review?: Record<string, unknown> }).review;

describe("a held message", () => {
  it("changes nothing at receipt and carries its deadline", async () => {
    const s = await scene();
    const message = await s.receive("When does the sale end?", "2026-11-25T20:00:00.000Z");
    expect(message).toMatchObject({
      intent: "UNKNOWN",
      needsReview: true,
      review: "HELD",
      heldIntent: "OPT_OUT",
      // 10 business days after the Wednesday before Thanksgiving is Thu Dec 10; less 2: Tue Dec 8
      reviewDueAt: "2026-12-09T05:00:00.000Z",
      consentEvents: [],
    });
    const { status } = await s.history();
    expect(status).toEqual({ [s.a.id]: "OPTED_IN", [s.b.id]: "OPTED_IN", [s.e.id]: "OPTED_IN" });
  });

  it("REVOCATION applies its opt-out on the sender, citing the review; the ledger shows each step", async () => {
    const s = await scene();
    const message = await s.receive("Don't stop");
    const before = await s.history();
    const reviewer = await s.key("OPERATOR");
    const result = await s.resolve(reviewer.secret, message.id, "REVOCATION", "meant STOP");
    expect(result.errors).toBeUndefined();
    const resolved = result.data!.resolveKeywordReview;
    expect(resolved.keywordEvent).toMatchObject({
      needsReview: true,
      reviewDecision: "REVOCATION",
      reviewNote: "meant STOP",
      reviewedAtDeadline: false,
      reviewedBy: null, // an OPERATOR's key is read by ADMIN keys only
    });
    expect(resolved.keywordEvent.reviewedAt).not.toBeNull();
    const changes = resolved.consentEvents.map((e) => [e.campaign!.id, e.fromStatus, e.toStatus]);
    expect(changes).toHaveLength(2);
    expect(changes).toEqual(
      expect.arrayContaining([
        [s.a.id, "OPTED_IN", "OPTED_OUT"],
        [s.b.id, "OPTED_IN", "OPTED_OUT"],
      ]),
    );
    for (const event of resolved.consentEvents) {
      expect(event.method).toBe("KEYWORD");
      expect(reviewOf(event.evidence)).toMatchObject({
        keywordEventId: expect.any(String),
        marked: "HELD",
        decision: "REVOCATION",
        note: "meant STOP",
        reviewerApiKeyId: expect.any(String),
      });
      expect((event.evidence as { message: { body: string } }).message.body).toBe("Don't stop");
    }
    // the message lists the events its review caused
    expect(resolved.keywordEvent.consentEvents.map((e) => e.sequence)).toEqual(
      resolved.consentEvents.map((e) => e.sequence),
    );
    const after = await s.history();
    expect(after.status).toEqual({
      [s.a.id]: "OPTED_OUT",
      [s.b.id]: "OPTED_OUT",
      [s.e.id]: "OPTED_IN",
    });
    // the ledger: the three opt-ins, then the review's two opt-outs, in sequence order
    expect(after.events.slice(0, before.events.length)).toEqual(before.events);
    expect(after.events.slice(before.events.length).map((e) => e.sequence)).toEqual(
      resolved.consentEvents.map((e) => e.sequence),
    );
    const sequences = after.events.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    // decided once
    const counts = await rowCounts(s.org.rowId);
    const again = await failure(s.org.adminKey, Resolve, {
      input: { id: message.id, decision: "NOT_REVOCATION" },
    });
    expect(again.extensions).toMatchObject({ code: "CONFLICT", field: "input.id" });
    expect(await rowCounts(s.org.rowId)).toEqual(counts);
  });

  it("NOT_REVOCATION records the decision and changes nothing; the queue no longer lists it", async () => {
    const s = await scene();
    const message = await s.receive("Will the sale end?");
    expect(message.review).toBe("HELD");
    const queued = await ok(s.org.adminKey, Queue, { first: 50 });
    expect(queued.keywordReviews.edges.map((e) => e.node.id)).toEqual([message.id]);
    const before = await s.history();
    const resolved = await ok(s.org.adminKey, Resolve, {
      input: { id: message.id, decision: "NOT_REVOCATION", note: "a question about the sale" },
    });
    expect(resolved.resolveKeywordReview.consentEvents).toEqual([]);
    expect(resolved.resolveKeywordReview.keywordEvent).toMatchObject({
      reviewDecision: "NOT_REVOCATION",
      reviewNote: "a question about the sale",
      reviewedBy: { id: expect.any(String) },
    });
    expect(await s.history()).toEqual(before);
    expect((await ok(s.org.adminKey, Queue, { first: 50 })).keywordReviews.edges).toEqual([]);
    // nor does the sweep apply it later
    const app = await testApp();
    await applyOverdueReviews(app.runtime, new Date("2030-01-01T00:00:00Z"), {
      organizationId: s.org.rowId,
    });
    expect(await s.history()).toEqual(before);
  });
});

describe("an applied opt-out reversed (NOT_REVOCATION)", () => {
  it("restores exactly the consents it ended and not those that changed since or were out before", async () => {
    const s = await scene();
    const c = await createCampaign(s.org.adminKey, { senderId: s.sender.id });
    const d = await createCampaign(s.org.adminKey, { senderId: s.sender.id });
    await ok(s.org.adminKey, OptIn, {
      input: { phone: s.phone, campaignId: c.id, method: "API" },
    });
    // C is opted out by something else before the message; D the number never joined
    await ok(s.org.adminKey, OptOut, {
      input: { phone: s.phone, campaignId: c.id, scope: "CAMPAIGN", method: "API" },
    });
    const message = await s.receive("no more texts please");
    expect(message).toMatchObject({ intent: "OPT_OUT", review: "APPLIED", heldIntent: null });
    // A and B end, D gets a suppression record; C was out already
    expect(message.consentEvents.map((e) => e.toStatus)).toEqual([
      "OPTED_OUT",
      "OPTED_OUT",
      "OPTED_OUT",
    ]);
    expect((await s.history()).status).toMatchObject({
      [s.a.id]: "OPTED_OUT",
      [s.b.id]: "OPTED_OUT",
      [c.id]: "OPTED_OUT",
      [d.id]: "OPTED_OUT",
    });
    // B changes again after the message: an integration re-adds it (pending its "Y")
    await ok(s.org.adminKey, OptIn, {
      input: { phone: s.phone, campaignId: s.b.id, method: "API" },
    });
    const before = await s.history();
    const resolved = await ok(s.org.adminKey, Resolve, {
      input: { id: message.id, decision: "NOT_REVOCATION", note: "asked about an order" },
    });
    const restored = resolved.resolveKeywordReview.consentEvents;
    expect(restored.map((e) => [e.campaign!.id, e.fromStatus, e.toStatus, e.method])).toEqual([
      [s.a.id, "OPTED_OUT", "OPTED_IN", "ADMIN"],
    ]);
    const endedSequenceOfA = (await s.history()).events.find(
      (e) => e.campaign!.id === s.a.id && e.toStatus === "OPTED_OUT",
    )!.sequence;
    expect(restored[0].evidence).toMatchObject({
      restores: { sequence: endedSequenceOfA },
      review: { decision: "NOT_REVOCATION", note: "asked about an order", marked: "APPLIED" },
    });
    const after = await s.history();
    expect(after.status).toEqual({
      [s.a.id]: "OPTED_IN",
      [s.b.id]: "PENDING",
      [c.id]: "OPTED_OUT",
      [d.id]: "OPTED_OUT",
      [s.e.id]: "OPTED_IN",
    });
    expect(after.events.slice(0, before.events.length)).toEqual(before.events);
    expect(after.events.slice(before.events.length)).toHaveLength(1);
  });

  it("REVOCATION on an applied opt-out keeps it and only records the decision", async () => {
    const s = await scene();
    const message = await s.receive("I want to stop getting these");
    const before = await s.history();
    const resolved = await ok(s.org.adminKey, Resolve, {
      input: { id: message.id, decision: "REVOCATION" },
    });
    expect(resolved.resolveKeywordReview.consentEvents).toEqual([]);
    expect(resolved.resolveKeywordReview.keywordEvent.reviewDecision).toBe("REVOCATION");
    expect(await s.history()).toEqual(before);
  });

  it("markKeywordEventReviewed (deprecated) confirms an applied opt-out and refuses a held one", async () => {
    const s = await scene();
    const applied = await s.receive("I want to stop getting these");
    const marked = await ok(s.org.adminKey, MarkReviewed, { id: applied.id });
    expect(marked.markKeywordEventReviewed.keywordEvent).toEqual({
      reviewDecision: "REVOCATION",
      reviewNote: "marked reviewed",
    });
    const held = await s.receive("Don't stop");
    const refused = await failure(s.org.adminKey, MarkReviewed, { id: held.id });
    expect(refused.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.id" });
  });
});

describe("the review deadline", () => {
  it("applies an unreviewed held message at its reviewDueAt, not a millisecond before", async () => {
    const s = await scene();
    const message = await s.receive("when does it end?", "2026-11-25T20:00:00.000Z");
    const due = new Date(message.reviewDueAt!);
    expect(due.toISOString()).toBe("2026-12-09T05:00:00.000Z");
    const app = await testApp();
    // the sweep of the whole database, limited to this test's organization (the worker's server
    // holds other tests' messages)
    const only = { organizationId: s.org.rowId };
    const before = await s.history();
    await applyOverdueReviews(app.runtime, new Date(due.getTime() - 1), only);
    expect(await s.history()).toEqual(before);
    expect(await applyOverdueReviews(app.runtime, due, only)).toBe(1);
    const after = await s.history();
    expect(after.status).toEqual({
      [s.a.id]: "OPTED_OUT",
      [s.b.id]: "OPTED_OUT",
      [s.e.id]: "OPTED_IN",
    });
    const applied = after.events.slice(before.events.length);
    expect(applied).toHaveLength(2);
    for (const event of applied) {
      expect(event.method).toBe("KEYWORD");
      expect(reviewOf(event.evidence)).toMatchObject({
        decision: "REVOCATION",
        atDeadline: true,
        reviewDueAt: "2026-12-09T05:00:00.000Z",
        note: "applied at the review deadline",
        reviewerApiKeyId: null,
      });
    }
    const { node } = await ok(s.org.adminKey, Message, { id: message.id });
    expect(node).toMatchObject({
      reviewDecision: "REVOCATION",
      reviewedAtDeadline: true,
      reviewedBy: null,
    });
    // a second sweep changes nothing, and a person can no longer decide it
    expect(await applyOverdueReviews(app.runtime, new Date(due.getTime() + 60_000), only)).toBe(0);
    expect((await s.history()).events).toEqual(after.events);
    const late = await failure(s.org.adminKey, Resolve, {
      input: { id: message.id, decision: "NOT_REVOCATION" },
    });
    expect(late.extensions?.code).toBe("CONFLICT");
  });
});

describe("who may decide", () => {
  it("refuses VIEWER keys, PARTNER keys outside the message's campaigns, unmarked and unknown messages", async () => {
    const s = await scene();
    const held = await s.receive("Don't stop");
    const exact = await s.receive("HELP");
    const viewer = await s.key("VIEWER");
    const partnerOfA = await s.key("PARTNER", [s.a.id]);
    const partnerOfE = await s.key("PARTNER", [s.e.id]);
    const counts = await rowCounts(s.org.rowId);
    const refusal = async (key: string, id: string, note?: string) =>
      (
        await failure(key, Resolve, {
          input: { id, decision: "REVOCATION", note },
        })
      ).extensions;
    expect(await refusal(viewer.secret, held.id)).toMatchObject({ code: "FORBIDDEN" });
    expect(await refusal(partnerOfA.secret, held.id)).toMatchObject({ code: "FORBIDDEN" });
    expect(await refusal(partnerOfE.secret, held.id)).toMatchObject({ code: "NOT_FOUND" });
    expect(await refusal(s.org.adminKey, exact.id)).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.id",
    });
    expect(await refusal(s.org.adminKey, "S2V5d29yZEV2ZW50OjAxOTM=")).toMatchObject({
      code: "NOT_FOUND",
    });
    expect(await refusal(s.org.adminKey, held.id, "x".repeat(2001))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.note",
    });
    // another organization's message reads as unknown
    const other = await newOrganization();
    expect(await refusal(other.adminKey, held.id)).toMatchObject({ code: "NOT_FOUND" });
    expect(await rowCounts(s.org.rowId)).toEqual(counts);
    const { node } = await ok(s.org.adminKey, Message, { id: held.id });
    expect(node).toMatchObject({ reviewDecision: null, reviewedAt: null });
  });

  it("lets a PARTNER decide a message of its own campaigns", async () => {
    const s = await scene();
    const held = await s.receive("Don't stop");
    const partner = await s.key("PARTNER", [s.a.id, s.b.id]);
    const result = await ok(partner.secret, Resolve, {
      input: { id: held.id, decision: "REVOCATION" },
    });
    expect(result.resolveKeywordReview.consentEvents).toHaveLength(2);
  });
});

describe("concurrent decisions", () => {
  it("records one decision only; the others are CONFLICT and write nothing", async () => {
    const s = await scene();
    const held = await s.receive("Don't stop");
    const decisions: ReviewDecision[] = [
      "REVOCATION",
      "NOT_REVOCATION",
      "REVOCATION",
      "NOT_REVOCATION",
      "REVOCATION",
      "REVOCATION",
    ];
    const results = await Promise.all(
      decisions.map((decision, i) => s.resolve(s.org.adminKey, held.id, decision, `try ${i}`)),
    );
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) {
      expect(r.errors![0].extensions?.code).toBe("CONFLICT");
    }
    const winner = winners[0].data!.resolveKeywordReview;
    const { node } = await ok(s.org.adminKey, Message, { id: held.id });
    expect(node).toMatchObject({
      reviewDecision: winner.keywordEvent.reviewDecision,
      reviewNote: winner.keywordEvent.reviewNote,
    });
    const { events } = await s.history();
    const reviewEvents = events.filter((e) => reviewOf(e.evidence));
    expect(reviewEvents).toHaveLength(winner.keywordEvent.reviewDecision === "REVOCATION" ? 2 : 0);
  });
});

describe("the queue and the overdue gauge", () => {
  async function overdueGauge(): Promise<Record<string, number>> {
    const app = await testApp();
    const text = await (await fetch(`http://127.0.0.1:${app.server.port}/metrics`)).text();
    const values: Record<string, number> = {};
    for (const match of text.matchAll(
      /^optgraph_keyword_reviews_overdue\{review="(\w+)"\} (\d+)$/gm,
    )) {
      values[match[1]] = Number(match[2]);
    }
    return values;
  }

  it("lists open reviews by due date, pages them, filters overdue ones and counts them", async () => {
    const s = await scene();
    const gaugeBefore = await overdueGauge();
    const now = Date.now();
    const daysAgo = (days: number) => new Date(now - days * 86_400_000).toISOString();
    const old = await s.receive("no more texts please", daysAgo(40)); // applied, overdue
    const recent = await s.receive("Don't stop"); // held, due in 8 business days
    const middle = await s.receive("I revoke my consent", daysAgo(5)); // applied, not due
    const all = await ok(s.org.adminKey, Queue, { first: 10 });
    expect(all.keywordReviews.edges.map((e) => e.node.id)).toEqual([old.id, middle.id, recent.id]);
    const dues = all.keywordReviews.edges.map((e) => e.node.reviewDueAt!);
    expect(dues).toEqual([...dues].sort());
    const page1 = await ok(s.org.adminKey, Queue, { first: 2 });
    expect(page1.keywordReviews.pageInfo.hasNextPage).toBe(true);
    const page2 = await ok(s.org.adminKey, Queue, {
      first: 2,
      after: page1.keywordReviews.edges[1].cursor,
    });
    expect(page2.keywordReviews.edges.map((e) => e.node.id)).toEqual([recent.id]);
    const overdue = await ok(s.org.adminKey, Queue, { first: 10, overdue: true });
    expect(overdue.keywordReviews.edges.map((e) => e.node.id)).toEqual([old.id]);
    const notDue = await ok(s.org.adminKey, Queue, { first: 10, overdue: false });
    expect(notDue.keywordReviews.edges.map((e) => e.node.id)).toEqual([middle.id, recent.id]);
    // a PARTNER of campaign E (another sender) sees none of them
    const partnerOfE = await s.key("PARTNER", [s.e.id]);
    expect((await ok(partnerOfE.secret, Queue, { first: 10 })).keywordReviews.edges).toEqual([]);

    const gauge = await overdueGauge();
    expect(gauge.APPLIED).toBe((gaugeBefore.APPLIED ?? 0) + 1);
    await ok(s.org.adminKey, Resolve, { input: { id: old.id, decision: "REVOCATION" } });
    expect((await overdueGauge()).APPLIED).toBe(gaugeBefore.APPLIED ?? 0);
  });
});
