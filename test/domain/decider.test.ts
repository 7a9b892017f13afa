// The decider's specification, as given / when / then tables: given a subscriber's consents and
// the organization's campaigns, when a command arrives from an actor, then these changes (or this
// refusal, or nothing). Every path that changes consent asks this one function.
import { describe, expect, it } from "vitest";
import type { ConsentMethod, ConsentStatus } from "../../src/domain/consent.ts";
import {
  decide,
  evolve,
  type CampaignFacts,
  type CommandContext,
  type ConsentCommand,
  type ConsentFacts,
  type Decision,
  type ReviewFacts,
} from "../../src/domain/decider.ts";
import { classifyMessage } from "../../src/domain/keywords.ts";

const T0 = new Date("2026-01-01T00:00:00Z");
const NOW = new Date("2026-06-01T12:00:00Z");
const SENDER = "sender-1";
const OTHER_SENDER = "sender-2";

function campaign(id: string, options: Partial<CampaignFacts> = {}): CampaignFacts {
  return {
    id,
    name: `Program ${id}`,
    senderId: SENDER,
    status: "ACTIVE",
    doubleOptIn: false,
    keywords: [],
    disclosures: [
      {
        id: `${id}-v1`,
        version: 1,
        consentLanguageHash: "a".repeat(64),
        createdAt: T0,
        programName: `Program ${id}`,
        messageFrequency: "Up to 4 msgs/month",
        helpText: `Program ${id}: help at help@example.com.`,
        optInConfirmation: `Program ${id}: you're in!`,
        optOutConfirmation: `Program ${id}: you're out.`,
      },
    ],
    ...options,
  };
}

/** A consent, as the last event (from → status, how, when) left it. */
function consent(
  campaignId: string,
  status: ConsentStatus,
  last: {
    from?: ConsentStatus | null;
    method?: ConsentMethod;
    at?: Date;
    settled?: ConsentStatus | null;
  } = {},
): ConsentFacts {
  return {
    id: `consent-${campaignId}`,
    campaignId,
    status,
    lastSequence: 7,
    lastOccurredAt: last.at ?? T0,
    lastFromStatus: last.from ?? null,
    lastMethod: last.method ?? "API",
    settled:
      last.settled !== undefined
        ? last.settled
        : status === "OPTED_IN" || status === "OPTED_OUT"
          ? status
          : null,
    disclosureVersionId: `${campaignId}-v1`,
    expiresAt: status === "PENDING" ? new Date(NOW.getTime() + 3_600_000) : null,
  };
}

const ctx = (overrides: Partial<CommandContext> = {}): CommandContext => ({
  scope: null,
  mayWrite: true,
  method: "API",
  occurredAt: NOW,
  recordedAt: NOW,
  pendingTtlMs: 72 * 3_600_000,
  evidence: null,
  ...overrides,
});

const keyword = (body: string): ConsentCommand => ({
  kind: "KEYWORD",
  senderId: SENDER,
  classification: classifyMessage(body, ["JOIN", "OTHER"]),
});

/** The outcome in short: REFUSED with its code, or each change as "campaign: from → to". */
function summary(decision: Decision): string[] | string {
  if (decision.kind === "REFUSED") return `REFUSED ${decision.error.code}`;
  return decision.changes.map((c) => `${c.campaignId}: ${c.from ?? "none"} → ${c.to}`);
}

interface Case {
  given: string;
  campaigns: CampaignFacts[];
  consents: ConsentFacts[];
  when: ConsentCommand;
  as?: Partial<CommandContext>;
  then: string[] | string;
}

const A = campaign("A", { keywords: ["JOIN"] });
const B = campaign("B", { keywords: ["OTHER"] });
const DOUBLE = campaign("D", { doubleOptIn: true });
const DRAFT = campaign("R", { status: "DRAFT" });
const ARCHIVED = campaign("X", { status: "ARCHIVED" });
const ELSEWHERE = campaign("E", { senderId: OTHER_SENDER });

const cases: Case[] = [
  // opt-in by an integration
  {
    given: "a new number",
    campaigns: [A],
    consents: [],
    when: { kind: "OPT_IN", campaignId: "A" },
    then: ["A: none → OPTED_IN"],
  },
  {
    given: "a new number, double opt-in",
    campaigns: [DOUBLE],
    consents: [],
    when: { kind: "OPT_IN", campaignId: "D" },
    then: ["D: none → PENDING"],
  },
  {
    given: "opted in already",
    campaigns: [A],
    consents: [consent("A", "OPTED_IN")],
    when: { kind: "OPT_IN", campaignId: "A" },
    then: [],
  },
  {
    given: "opted out: re-added only through a Y",
    campaigns: [A],
    consents: [consent("A", "OPTED_OUT")],
    when: { kind: "OPT_IN", campaignId: "A" },
    then: ["A: OPTED_OUT → PENDING"],
  },
  {
    given: "opted out after the opt-in it would undo (stale)",
    campaigns: [A],
    consents: [consent("A", "OPTED_OUT", { at: NOW })],
    when: { kind: "OPT_IN", campaignId: "A" },
    as: { occurredAt: T0 },
    then: [],
  },
  {
    given: "re-added after an opt-out, expired",
    campaigns: [A],
    consents: [consent("A", "EXPIRED", { settled: "OPTED_OUT" })],
    when: { kind: "OPT_IN", campaignId: "A" },
    then: ["A: EXPIRED → PENDING"],
  },
  {
    given: "an archived campaign",
    campaigns: [ARCHIVED],
    consents: [],
    when: { kind: "OPT_IN", campaignId: "X" },
    then: "REFUSED CONFLICT",
  },
  {
    given: "an unknown campaign",
    campaigns: [A],
    consents: [],
    when: { kind: "OPT_IN", campaignId: "nope" },
    then: "REFUSED NOT_FOUND",
  },
  {
    given: "a PARTNER key outside its campaigns",
    campaigns: [A, B],
    consents: [],
    when: { kind: "OPT_IN", campaignId: "B" },
    as: { scope: ["A"] },
    then: "REFUSED NOT_FOUND",
  },
  {
    given: "a VIEWER key",
    campaigns: [A],
    consents: [],
    when: { kind: "OPT_IN", campaignId: "A" },
    as: { mayWrite: false },
    then: "REFUSED FORBIDDEN",
  },
  // the subscriber's confirmation
  {
    given: "a pending double opt-in",
    campaigns: [DOUBLE],
    consents: [consent("D", "PENDING")],
    when: { kind: "CONFIRM", campaignId: "D" },
    then: ["D: PENDING → OPTED_IN"],
  },
  {
    given: "nothing pending",
    campaigns: [DOUBLE],
    consents: [consent("D", "OPTED_OUT")],
    when: { kind: "CONFIRM", campaignId: "D" },
    then: "REFUSED CONFLICT",
  },
  {
    given: "a pending opt-in past its window",
    campaigns: [DOUBLE],
    consents: [{ ...consent("D", "PENDING"), expiresAt: T0 }],
    when: { kind: "CONFIRM", campaignId: "D" },
    then: "REFUSED CONFLICT",
  },
  // opt-out by an integration, each scope
  {
    given: "opted in, campaign scope",
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: { kind: "OPT_OUT", scope: "CAMPAIGN", campaignId: "A" },
    then: ["A: OPTED_IN → OPTED_OUT"],
  },
  {
    given:
      "sender scope: suppression records for the sender's other campaigns, none elsewhere or for archived ones",
    campaigns: [A, B, ARCHIVED, ELSEWHERE],
    consents: [consent("A", "OPTED_IN")],
    when: { kind: "OPT_OUT", scope: "SENDER", campaignId: "A" },
    then: ["A: OPTED_IN → OPTED_OUT", "B: none → OPTED_OUT"],
  },
  {
    given: "organization scope",
    campaigns: [A, ELSEWHERE],
    consents: [],
    when: { kind: "OPT_OUT", scope: "ORGANIZATION", campaignId: null },
    then: ["A: none → OPTED_OUT", "E: none → OPTED_OUT"],
  },
  {
    given: "a PARTNER key, sender scope: only its own campaigns",
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: { kind: "OPT_OUT", scope: "SENDER", campaignId: "A" },
    as: { scope: ["A"] },
    then: ["A: OPTED_IN → OPTED_OUT"],
  },
  {
    given: "a PARTNER key, organization scope: only its own campaigns",
    campaigns: [A, B, ELSEWHERE],
    consents: [],
    when: { kind: "OPT_OUT", scope: "ORGANIZATION", campaignId: null },
    as: { scope: ["B"] },
    then: ["B: none → OPTED_OUT"],
  },
  {
    given: "already opted out",
    campaigns: [A],
    consents: [consent("A", "OPTED_OUT")],
    when: { kind: "OPT_OUT", scope: "CAMPAIGN", campaignId: "A" },
    then: [],
  },
  // inbound keywords
  {
    given: "STOP to a sender",
    campaigns: [A, B, ELSEWHERE],
    consents: [consent("A", "OPTED_IN")],
    when: keyword("STOP"),
    as: { method: "KEYWORD" },
    then: ["A: OPTED_IN → OPTED_OUT", "B: none → OPTED_OUT"],
  },
  {
    given: "STOPALL",
    campaigns: [A, ELSEWHERE],
    consents: [],
    when: keyword("STOPALL"),
    as: { method: "KEYWORD" },
    then: ["A: none → OPTED_OUT", "E: none → OPTED_OUT"],
  },
  {
    given: "a join keyword",
    campaigns: [A, B],
    consents: [],
    when: keyword("JOIN"),
    as: { method: "KEYWORD" },
    then: ["A: none → OPTED_IN"],
  },
  {
    given: "a join keyword after an opt-out: the subscriber's own request counts",
    campaigns: [A],
    consents: [consent("A", "OPTED_OUT")],
    when: keyword("JOIN"),
    as: { method: "KEYWORD" },
    then: ["A: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "another campaign's join keyword, PARTNER key",
    campaigns: [A, B],
    consents: [],
    when: keyword("OTHER"),
    as: { method: "KEYWORD", scope: ["A"] },
    then: [],
  },
  {
    given: "STOP through a PARTNER key",
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: keyword("STOP"),
    as: { method: "KEYWORD", scope: ["A"] },
    then: ["A: OPTED_IN → OPTED_OUT"],
  },
  {
    given: "Y with a pending opt-in",
    campaigns: [DOUBLE, A],
    consents: [consent("D", "PENDING")],
    when: keyword("Y"),
    as: { method: "KEYWORD" },
    then: ["D: PENDING → OPTED_IN"],
  },
  {
    given: "HELP",
    campaigns: [A],
    consents: [consent("A", "OPTED_IN")],
    when: keyword("HELP"),
    as: { method: "KEYWORD" },
    then: [],
  },
  {
    given: "an unknown message",
    campaigns: [A],
    consents: [consent("A", "OPTED_IN")],
    when: keyword("Stopwatch on sale?"),
    as: { method: "KEYWORD" },
    then: [],
  },
  // START after STOP: exactly what the STOP ended
  {
    given: "a keyword STOP ended A's consent and suppressed B, D, R",
    campaigns: [A, B, DOUBLE, DRAFT],
    consents: [
      consent("A", "OPTED_OUT", { from: "OPTED_IN", method: "KEYWORD" }),
      consent("B", "OPTED_OUT", { from: null, method: "KEYWORD" }),
      consent("D", "OPTED_OUT", { from: null, method: "KEYWORD" }),
      consent("R", "OPTED_OUT", { from: null, method: "KEYWORD" }),
    ],
    when: keyword("START"),
    as: { method: "KEYWORD" },
    then: ["A: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "a keyword STOP ended a pending request (never a consent)",
    campaigns: [DOUBLE],
    consents: [consent("D", "OPTED_OUT", { from: "PENDING", method: "KEYWORD" })],
    when: keyword("START"),
    as: { method: "KEYWORD" },
    then: [],
  },
  {
    given: "an API opt-out ended the consent",
    campaigns: [A],
    consents: [consent("A", "OPTED_OUT", { from: "OPTED_IN", method: "API" })],
    when: keyword("UNSTOP"),
    as: { method: "KEYWORD" },
    then: [],
  },
  {
    given: "a START older than the STOP it would undo",
    campaigns: [A],
    consents: [consent("A", "OPTED_OUT", { from: "OPTED_IN", method: "KEYWORD", at: NOW })],
    when: keyword("START"),
    as: { method: "KEYWORD", occurredAt: T0 },
    then: [],
  },
  {
    given: "a never-seen number on a sender with one active campaign",
    campaigns: [A, DRAFT],
    consents: [],
    when: keyword("START"),
    as: { method: "KEYWORD" },
    then: ["A: none → OPTED_IN"],
  },
  {
    given: "a never-seen number on a sender with two active campaigns",
    campaigns: [A, B],
    consents: [],
    when: keyword("START"),
    as: { method: "KEYWORD" },
    then: [],
  },
  // expiry
  {
    given: "a pending opt-in past its window",
    campaigns: [DOUBLE],
    consents: [{ ...consent("D", "PENDING"), expiresAt: T0 }],
    when: { kind: "EXPIRE", campaignId: "D" },
    as: { scope: null },
    then: ["D: PENDING → EXPIRED"],
  },
  {
    given: "a pending opt-in within its window",
    campaigns: [DOUBLE],
    consents: [consent("D", "PENDING")],
    when: { kind: "EXPIRE", campaignId: "D" },
    then: [],
  },
];

describe("decide: given consents, when a command, then changes", () => {
  it.each(cases.map((c) => [`given ${c.given}, when ${describeCommand(c.when)}`, c] as const))(
    "%s",
    (_title, c) => {
      const state = {
        campaigns: [...c.campaigns].sort((x, y) => x.id.localeCompare(y.id)),
        consents: new Map(c.consents.map((x) => [x.campaignId, x])),
      };
      expect(summary(decide(state, c.when, ctx(c.as)))).toEqual(c.then);
    },
  );
});

function describeCommand(command: ConsentCommand): string {
  switch (command.kind) {
    case "KEYWORD":
      return `the message ${command.classification.intent}`;
    case "OPT_OUT":
      return `OPT_OUT (${command.scope})`;
    default:
      return command.kind;
  }
}

describe("what a change records", () => {
  const state = (consents: ConsentFacts[] = [], campaigns = [A]) => ({
    campaigns,
    consents: new Map(consents.map((x) => [x.campaignId, x])),
  });

  it("an opt-in cites the disclosures in force when it happened, or says none was", () => {
    const v2 = {
      ...A.disclosures[0],
      id: "A-v2",
      version: 2,
      createdAt: new Date("2026-03-01T00:00:00Z"),
    };
    const two = { ...A, disclosures: [A.disclosures[0], v2] };
    const at = (occurredAt: Date) => {
      const d = decide(state([], [two]), { kind: "OPT_IN", campaignId: "A" }, ctx({ occurredAt }));
      if (d.kind !== "DECIDED") throw new Error("refused");
      return [d.changes[0].disclosureVersionId, d.changes[0].evidence.consentLanguage];
    };
    expect(at(new Date("2026-02-01T00:00:00Z"))).toEqual([
      "A-v1",
      { version: 1, sha256: "a".repeat(64) },
    ]);
    expect(at(new Date("2026-04-01T00:00:00Z"))).toEqual([
      "A-v2",
      { version: 2, sha256: "a".repeat(64) },
    ]);
    expect(at(new Date("2025-01-01T00:00:00Z"))).toEqual([
      null,
      {
        version: null,
        note: "no disclosures of this campaign were in force at 2025-01-01T00:00:00.000Z",
      },
    ]);
  });

  it("the reply: a prompt for PENDING, the confirmation for OPTED_IN, one opt-out text for several programs", () => {
    const pending = decide(state([], [DOUBLE]), { kind: "OPT_IN", campaignId: "D" }, ctx());
    expect(pending).toMatchObject({ message: expect.stringMatching(/reply Y to confirm/) });
    const joined = decide(state(), keyword("JOIN"), ctx({ method: "KEYWORD" }));
    expect(joined).toMatchObject({ message: "Program A: you're in!" });
    const all = decide(state([], [A, ELSEWHERE]), keyword("STOPALL"), ctx({ method: "KEYWORD" }));
    expect(all).toMatchObject({ message: expect.stringMatching(/Program A, Program E/) });
  });

  it("the reply to a keyword: in the locale given, else the keyword's, else the campaign's texts", () => {
    const spanish = {
      locale: "es",
      helpText: "Programa A: ayuda.",
      optInConfirmation: "Programa A: ¡dentro!",
      optOutConfirmation: "Programa A: fuera.",
    };
    const translated = campaign("A", { keywords: ["JOIN"] });
    const withSpanish = {
      ...translated,
      disclosures: [{ ...translated.disclosures[0], translations: [spanish] }],
    };
    const optedIn = [consent("A", "OPTED_IN")];
    const reply = (body: string, locale?: string | null) =>
      decide(
        state(optedIn, [withSpanish]),
        {
          kind: "KEYWORD",
          senderId: SENDER,
          classification: classifyMessage(body),
          locale,
        },
        ctx({ method: "KEYWORD" }),
      );
    expect(reply("BAJA")).toMatchObject({ message: spanish.optOutConfirmation });
    expect(reply("STOP", "es")).toMatchObject({ message: spanish.optOutConfirmation });
    expect(reply("BAJA", "en")).toMatchObject({ message: "Program A: you're out." });
    expect(reply("STOP")).toMatchObject({ message: "Program A: you're out." });
    expect(reply("ARRÊT")).toMatchObject({ message: "Program A: you're out." });
  });

  it("evolve: the next command of a batch sees the change", () => {
    const first = decide(state(), { kind: "OPT_IN", campaignId: "A" }, ctx());
    if (first.kind !== "DECIDED") throw new Error("refused");
    const after = evolve(undefined, first.changes[0], {
      consentId: "c1",
      sequence: 8,
      method: "API",
    });
    expect(after).toMatchObject({ status: "OPTED_IN", settled: "OPTED_IN", lastSequence: 8 });
    const again = decide(state([after]), { kind: "OPT_IN", campaignId: "A" }, ctx());
    expect(summary(again)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Review of flagged messages: given the message (held, or applied with the events it caused) and
// the consents now, when a decision (or the deadline), then changes.

const DUE = new Date("2026-06-01T04:00:00Z");

function held(overrides: Partial<ReviewFacts> = {}): ReviewFacts {
  return {
    keywordEventId: "k1",
    senderId: SENDER,
    review: "HELD",
    heldIntent: "OPT_OUT",
    campaignIds: ["A", "B"],
    receivedScope: null,
    reviewDueAt: DUE,
    decided: false,
    caused: [],
    ...overrides,
  };
}

/** A message whose opt-out was applied: it ended A (sequence 11) and B (sequence 12). */
function applied(overrides: Partial<ReviewFacts> = {}): ReviewFacts {
  return held({
    review: "APPLIED",
    heldIntent: null,
    caused: [
      { campaignId: "A", sequence: 11, fromStatus: "OPTED_IN", toStatus: "OPTED_OUT" },
      { campaignId: "B", sequence: 12, fromStatus: "OPTED_IN", toStatus: "OPTED_OUT" },
    ],
    ...overrides,
  });
}

/** A consent whose last event is the one at `sequence`. */
const at = (facts: ConsentFacts, sequence: number): ConsentFacts => ({
  ...facts,
  lastSequence: sequence,
});
const endedByMessage = (campaignId: string, sequence: number, from: ConsentStatus = "OPTED_IN") =>
  at(consent(campaignId, "OPTED_OUT", { from, method: "KEYWORD" }), sequence);

type ReviewCommand = Extract<ConsentCommand, { kind: "REVIEW" }>;
const resolve = (
  decision: "REVOCATION" | "NOT_REVOCATION",
  atDeadline = false,
  keywordEventId = "k1",
): ReviewCommand => ({ kind: "REVIEW", keywordEventId, decision, note: null, atDeadline });

interface ReviewCase extends Case {
  review: ReviewFacts | null;
}

const C = campaign("C");
const reviewCases: ReviewCase[] = [
  {
    given: "a held STOP question, subscribed to A and B on the sender and E elsewhere",
    review: held(),
    campaigns: [A, B, ELSEWHERE],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN"), consent("E", "OPTED_IN")],
    when: resolve("REVOCATION"),
    then: ["A: OPTED_IN → OPTED_OUT", "B: OPTED_IN → OPTED_OUT"],
  },
  {
    given: "a held STOPALL question",
    review: held({ heldIntent: "OPT_OUT_ALL", campaignIds: ["A", "B", "E"] }),
    campaigns: [A, B, ELSEWHERE],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN"), consent("E", "OPTED_IN")],
    when: resolve("REVOCATION"),
    then: ["A: OPTED_IN → OPTED_OUT", "B: OPTED_IN → OPTED_OUT", "E: OPTED_IN → OPTED_OUT"],
  },
  {
    given: "a held message a PARTNER of A submitted (decided by an ADMIN)",
    review: held({ receivedScope: ["A"], campaignIds: ["A"] }),
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: resolve("REVOCATION"),
    then: ["A: OPTED_IN → OPTED_OUT"],
  },
  {
    given: "a held message",
    review: held(),
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: resolve("NOT_REVOCATION"),
    then: [],
  },
  {
    given: "an applied opt-out that ended A and B, nothing since",
    review: applied(),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), endedByMessage("B", 12)],
    when: resolve("NOT_REVOCATION"),
    then: ["A: OPTED_OUT → OPTED_IN", "B: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "an applied opt-out, and C opted out by something else before it",
    review: applied(),
    campaigns: [A, B, C],
    consents: [endedByMessage("A", 11), endedByMessage("B", 12), at(consent("C", "OPTED_OUT"), 5)],
    when: resolve("NOT_REVOCATION"),
    then: ["A: OPTED_OUT → OPTED_IN", "B: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "an applied opt-out, and B opted in again since",
    review: applied(),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), at(consent("B", "OPTED_IN", { from: "OPTED_OUT" }), 20)],
    when: resolve("NOT_REVOCATION"),
    then: ["A: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "an applied opt-out, and B opted in and out again since (a later STOP)",
    review: applied(),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), endedByMessage("B", 21)],
    when: resolve("NOT_REVOCATION"),
    then: ["A: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "an applied opt-out that also made a suppression record for C (never joined)",
    review: applied({
      campaignIds: ["A", "C"],
      caused: [
        { campaignId: "A", sequence: 11, fromStatus: "OPTED_IN", toStatus: "OPTED_OUT" },
        { campaignId: "C", sequence: 12, fromStatus: null, toStatus: "OPTED_OUT" },
      ],
    }),
    campaigns: [A, C],
    consents: [endedByMessage("A", 11), at(consent("C", "OPTED_OUT"), 12)],
    when: resolve("NOT_REVOCATION"),
    then: ["A: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "an applied opt-out that ended a pending opt-in of D",
    review: applied({
      campaignIds: ["D"],
      caused: [{ campaignId: "D", sequence: 11, fromStatus: "PENDING", toStatus: "OPTED_OUT" }],
    }),
    campaigns: [DOUBLE],
    consents: [endedByMessage("D", 11, "PENDING")],
    when: resolve("NOT_REVOCATION"),
    then: ["D: OPTED_OUT → PENDING"],
  },
  {
    given: "an applied opt-out",
    review: applied(),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), endedByMessage("B", 12)],
    when: resolve("REVOCATION"),
    then: [],
  },
  {
    given: "a message decided before",
    review: applied({ decided: true }),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), endedByMessage("B", 12)],
    when: resolve("NOT_REVOCATION"),
    then: "REFUSED CONFLICT",
  },
  {
    given: "a message not marked for review",
    review: held({ review: "NONE", heldIntent: null }),
    campaigns: [A, B],
    consents: [],
    when: resolve("REVOCATION"),
    then: "REFUSED BAD_USER_INPUT",
  },
  {
    given: "no such message",
    review: null,
    campaigns: [A, B],
    consents: [],
    when: resolve("REVOCATION"),
    then: "REFUSED NOT_FOUND",
  },
  {
    given: "a held message, decided by a VIEWER key",
    review: held(),
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN")],
    when: resolve("REVOCATION"),
    as: { mayWrite: false },
    then: "REFUSED FORBIDDEN",
  },
  {
    given: "an applied opt-out of A and B, decided by a PARTNER of A only",
    review: applied(),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), endedByMessage("B", 12)],
    when: resolve("NOT_REVOCATION"),
    as: { scope: ["A"] },
    then: "REFUSED FORBIDDEN",
  },
  {
    given: "an applied opt-out of A and B, decided by a PARTNER of both",
    review: applied(),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), endedByMessage("B", 12)],
    when: resolve("NOT_REVOCATION"),
    as: { scope: ["A", "B"] },
    then: ["A: OPTED_OUT → OPTED_IN", "B: OPTED_OUT → OPTED_IN"],
  },
  {
    given: "a held message past its deadline, nobody decided",
    review: held(),
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: resolve("REVOCATION", true),
    then: ["A: OPTED_IN → OPTED_OUT", "B: OPTED_IN → OPTED_OUT"],
  },
  {
    given: "a held message one millisecond before its deadline",
    review: held(),
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: resolve("REVOCATION", true),
    as: { recordedAt: new Date(DUE.getTime() - 1) },
    then: [],
  },
  {
    given: "a held message decided before its deadline",
    review: held({ decided: true }),
    campaigns: [A, B],
    consents: [consent("A", "OPTED_IN"), consent("B", "OPTED_IN")],
    when: resolve("REVOCATION", true),
    then: [],
  },
  {
    given: "an applied opt-out past its deadline",
    review: applied(),
    campaigns: [A, B],
    consents: [endedByMessage("A", 11), endedByMessage("B", 12)],
    when: resolve("REVOCATION", true),
    then: [],
  },
];

const reviewState = (c: ReviewCase) => ({
  campaigns: [...c.campaigns].sort((x, y) => x.id.localeCompare(y.id)),
  consents: new Map(c.consents.map((x) => [x.campaignId, x])),
  reviews: new Map(c.review ? [[c.review.keywordEventId, c.review]] : []),
});

describe("decide REVIEW: given a flagged message, when a decision, then changes", () => {
  it.each(
    reviewCases.map((c) => {
      const command = c.when as ReviewCommand;
      const who = command.atDeadline ? "the deadline" : command.decision;
      return [`given ${c.given}, when ${who}`, c] as const;
    }),
  )("%s", (_title, c) => {
    expect(summary(decide(reviewState(c), c.when, ctx(c.as)))).toEqual(c.then);
  });

  it("records the decision, cites the review and the ended event, and sends no text", () => {
    const evidence = { review: { keywordEventId: "k1", decision: "NOT_REVOCATION" } };
    const decision = decide(
      reviewState(reviewCases[4]),
      { ...resolve("NOT_REVOCATION"), note: "asked about the sale" },
      ctx({ evidence }),
    );
    expect(decision).toMatchObject({
      kind: "DECIDED",
      message: null,
      review: {
        keywordEventId: "k1",
        decision: "NOT_REVOCATION",
        note: "asked about the sale",
        atDeadline: false,
      },
    });
    if (decision.kind !== "DECIDED") throw new Error("refused");
    expect(decision.changes.map((c) => c.evidence)).toEqual([
      { ...evidence, restores: { sequence: 11 } },
      { ...evidence, restores: { sequence: 12 } },
    ]);
  });

  it("a restored pending opt-in gets a new confirmation window", () => {
    const decision = decide(reviewState(reviewCases[9]), resolve("NOT_REVOCATION"), ctx());
    if (decision.kind !== "DECIDED") throw new Error("refused");
    expect(decision.changes[0].expiresAt).toEqual(new Date(NOW.getTime() + 72 * 3_600_000));
  });

  it("a held message at receipt changes nothing and concerns what it would revoke", () => {
    const state = {
      campaigns: [A, B, ELSEWHERE],
      consents: new Map([["A", consent("A", "OPTED_IN")]]),
    };
    expect(decide(state, keyword("When does the sale end?"), ctx())).toEqual({
      kind: "DECIDED",
      changes: [],
      campaignIds: ["A", "B"],
      message: null,
    });
  });
});
