// The one place where consent changes are decided. Every path that changes a consent (the API's
// opt-in, confirmation and opt-out, inbound keywords from the API or a provider's webhook, import
// rows, the expiry of unconfirmed double opt-ins, the review of flagged messages) turns its request into a command and asks
// `decide(state, command, context)`: the changes to write, a refusal with its code and field, or
// nothing. The actor's campaign scope is applied here, before anything is written: campaigns
// outside it do not exist for the command. `evolve` folds a written change back into the state, so
// the next command of a batch sees it. Pure: no database, no clock, no GraphQL.
import type { CampaignStatus } from "./campaign.ts";
import {
  nextStatus,
  optInIsConfirmed,
  type ConsentMethod,
  type ConsentStatus,
  type OptInSource,
} from "./consent.ts";
import { DomainError, badInput, conflict, forbidden, notFound } from "./errors.ts";
import {
  isResubscribeKeyword,
  keywordKey,
  type Classification,
  type ReviewMark,
} from "./keywords.ts";
import {
  confirmationPrompt,
  helpReply,
  inLocale,
  optInConfirmation,
  optOutConfirmation,
  organizationOptOutConfirmation,
  type MessageDisclosures,
} from "./messages.ts";

export type OptOutScope = "CAMPAIGN" | "SENDER" | "ORGANIZATION";

/** One version of a campaign's disclosures. */
export interface DisclosureFacts extends MessageDisclosures {
  id: string;
  version: number;
  consentLanguageHash: string;
  /** from when the version was in force */
  createdAt: Date;
}

export interface CampaignFacts {
  id: string;
  name: string;
  senderId: string;
  status: CampaignStatus;
  doubleOptIn: boolean;
  keywords: readonly string[];
  /** every version, oldest first (never empty for a campaign that exists) */
  disclosures: readonly DisclosureFacts[];
}

/** One consent of the subscriber, with what the rules need of its past. */
export interface ConsentFacts {
  id: string;
  campaignId: string;
  status: ConsentStatus;
  lastSequence: number;
  /** the event that produced the current status: when it happened, from what, and how */
  lastOccurredAt: Date;
  lastFromStatus: ConsentStatus | null;
  lastMethod: ConsentMethod;
  /** toStatus of the latest OPTED_IN or OPTED_OUT event (PENDING and EXPIRED stand on it) */
  settled: ConsentStatus | null;
  disclosureVersionId: string | null;
  expiresAt: Date | null;
}

/** An inbound message marked for review (or not), as its review command needs it. */
export interface ReviewFacts {
  keywordEventId: string;
  senderId: string;
  review: ReviewMark;
  heldIntent: "OPT_OUT" | "OPT_OUT_ALL" | null;
  /** the campaigns the message concerns (those it changed, or for a held one would change) */
  campaignIds: readonly string[];
  /** the campaign scope of the key that submitted it (null: a webhook or an unrestricted key) */
  receivedScope: readonly string[] | null;
  reviewDueAt: Date | null;
  /** a decision was recorded */
  decided: boolean;
  /** the consent events it caused, in sequence order */
  caused: readonly {
    campaignId: string;
    sequence: number;
    fromStatus: ConsentStatus | null;
    toStatus: ConsentStatus;
  }[];
}

/** What a command is decided against: one subscriber's consents and the campaigns it may reach. */
export interface DecisionState {
  /** the organization's campaigns the command may reach, ordered by id */
  readonly campaigns: readonly CampaignFacts[];
  /** the subscriber's consents by campaign id (empty for a number never seen) */
  readonly consents: ReadonlyMap<string, ConsentFacts>;
  /** the messages REVIEW commands name, by keyword event id */
  readonly reviews?: ReadonlyMap<string, ReviewFacts>;
}

export type ReviewDecision = "REVOCATION" | "NOT_REVOCATION";

export type ConsentCommand =
  /** an integration (API, form, import, admin) asks for the subscriber */
  | { kind: "OPT_IN"; campaignId: string }
  /** the subscriber's own reply confirming a pending double opt-in */
  | { kind: "CONFIRM"; campaignId: string }
  | { kind: "OPT_OUT"; scope: OptOutScope; campaignId: string | null }
  /** an inbound message, classified, on the sender that received it */
  | {
      kind: "KEYWORD";
      senderId: string;
      classification: Classification;
      /** the language to reply in: the subscriber's stored locale, else the keyword's */
      locale?: string | null;
    }
  /** the confirmation window of a pending double opt-in has passed */
  | { kind: "EXPIRE"; campaignId: string }
  /**
   * a person's decision on a message marked for review, or (atDeadline) a held message nobody
   * decided by its deadline, applied as a revocation
   */
  | {
      kind: "REVIEW";
      keywordEventId: string;
      decision: ReviewDecision;
      note: string | null;
      atDeadline: boolean;
    };

export interface CommandContext {
  /** campaigns the actor may touch (PARTNER keys); null for every campaign */
  scope: readonly string[] | null;
  /** VIEWER keys may not change consents */
  mayWrite: boolean;
  method: ConsentMethod;
  /** when the change happened (in the past for imports and delayed messages) */
  occurredAt: Date;
  /** now: when it is written */
  recordedAt: Date;
  /** how long a PENDING consent waits for its "Y" */
  pendingTtlMs: number;
  /** the evidence given with the request (checked), copied into each event */
  evidence: Readonly<Record<string, unknown>> | null;
}

export interface ConsentChange {
  campaignId: string;
  from: ConsentStatus | null;
  to: ConsentStatus;
  occurredAt: Date;
  disclosureVersionId: string | null;
  expiresAt: Date | null;
  evidence: Record<string, unknown>;
}

export type Decision =
  | { kind: "REFUSED"; error: DomainError }
  | {
      kind: "DECIDED";
      /** in the order they are to be written; empty when nothing changes */
      changes: ConsentChange[];
      /** the campaigns the command concerns (the payload's consents), in scope */
      campaignIds: string[];
      /** the text to send back (confirmation, prompt, HELP), or null */
      message: string | null;
      /** the review decision to record on the message (REVIEW commands) */
      review?: ReviewRecord;
    };

/** A review decision as recorded on its message. */
export interface ReviewRecord {
  keywordEventId: string;
  decision: ReviewDecision;
  note: string | null;
  atDeadline: boolean;
}

const refused = (error: DomainError): Decision => ({ kind: "REFUSED", error });
const decided = (
  changes: ConsentChange[],
  campaignIds: string[],
  message: string | null,
): Decision => ({ kind: "DECIDED", changes, campaignIds, message });

export const inScope = (scope: readonly string[] | null, campaignId: string) =>
  scope === null || scope.includes(campaignId);

/** The campaign with its current reply texts in a language, when it has them. */
function repliesIn(campaign: CampaignFacts, locale: string | null): CampaignFacts {
  if (!locale || campaign.disclosures.length === 0) return campaign;
  const versions = campaign.disclosures;
  const current = versions[versions.length - 1];
  return { ...campaign, disclosures: [...versions.slice(0, -1), inLocale(current, locale)] };
}

/** The current disclosures: what a message sent now must carry. */
export const currentDisclosures = (campaign: CampaignFacts) =>
  campaign.disclosures[campaign.disclosures.length - 1];

/** The version in force at `at`, or null when the campaign had none yet. */
export function disclosuresInForce(campaign: CampaignFacts, at: Date): DisclosureFacts | null {
  let found: DisclosureFacts | null = null;
  for (const d of campaign.disclosures) if (d.createdAt.getTime() <= at.getTime()) found = d;
  return found;
}

export function decide(
  state: DecisionState,
  command: ConsentCommand,
  ctx: CommandContext,
): Decision {
  if (!ctx.mayWrite) return refused(forbidden("VIEWER keys may not change consents."));
  const reachable = state.campaigns.filter((c) => inScope(ctx.scope, c.id));
  const named = (campaignId: string) => reachable.find((c) => c.id === campaignId);
  try {
    switch (command.kind) {
      case "OPT_IN": {
        const campaign = named(command.campaignId);
        if (!campaign) return refused(notFound("campaign", command.campaignId));
        if (campaign.status === "ARCHIVED") {
          return refused(
            conflict(
              `Campaign "${campaign.name}" is archived and takes no opt-ins.`,
              "input.campaignId",
            ),
          );
        }
        return optIn(state, ctx, campaign, "INTEGRATION");
      }
      case "CONFIRM": {
        const campaign = named(command.campaignId);
        if (!campaign) return refused(notFound("campaign", command.campaignId));
        const change = confirm(state, ctx, campaign, true);
        return decided(
          change ? [change] : [],
          [campaign.id],
          change ? optInConfirmation(currentDisclosures(campaign)) : null,
        );
      }
      case "OPT_OUT": {
        let targets: CampaignFacts[];
        if (command.scope === "ORGANIZATION") {
          targets = reachable;
        } else {
          const campaign = command.campaignId ? named(command.campaignId) : undefined;
          if (!campaign) return refused(notFound("campaign", command.campaignId ?? ""));
          targets =
            command.scope === "CAMPAIGN"
              ? [campaign]
              : reachable.filter((c) => c.senderId === campaign.senderId);
        }
        return optOut(state, ctx, targets, command.scope);
      }
      case "KEYWORD":
        return keyword(
          state,
          ctx,
          reachable.map((c) => repliesIn(c, command.locale ?? command.classification.locale)),
          command.senderId,
          command.classification,
        );
      case "REVIEW":
        return review(state, ctx, reachable, command);
      case "EXPIRE": {
        const current = state.consents.get(command.campaignId);
        if (
          current?.status !== "PENDING" ||
          !current.expiresAt ||
          current.expiresAt.getTime() > ctx.recordedAt.getTime()
        ) {
          return decided([], [command.campaignId], null);
        }
        return decided(
          [
            {
              campaignId: command.campaignId,
              from: "PENDING",
              to: "EXPIRED",
              occurredAt: current.expiresAt,
              disclosureVersionId: current.disclosureVersionId,
              expiresAt: null,
              evidence: {
                reason: "double opt-in not confirmed in time",
                pendingSince: { sequence: current.lastSequence },
              },
            },
          ],
          [command.campaignId],
          null,
        );
      }
    }
  } catch (error) {
    if (error instanceof DomainError) return refused(error);
    throw error;
  }
}

/**
 * A request to receive messages. A PENDING or EXPIRED consent still stands on the last settled
 * answer before it: when that was an opt-out, the number is being re-added and only the
 * subscriber's "Y" may bring it back. An opt-in that happened before the opt-out it would undo is
 * stale: the opt-out stands. The event cites the disclosures in force when consent was given.
 */
function optIn(
  state: DecisionState,
  ctx: CommandContext,
  campaign: CampaignFacts,
  source: OptInSource,
): Decision {
  const current = state.consents.get(campaign.id) ?? null;
  const change = optInChange(current, ctx, campaign, source);
  if (!change) return decided([], [campaign.id], null);
  const now = currentDisclosures(campaign);
  const message = change.to === "PENDING" ? confirmationPrompt(now) : optInConfirmation(now);
  return decided([change], [campaign.id], message);
}

function optInChange(
  current: ConsentFacts | null,
  ctx: CommandContext,
  campaign: CampaignFacts,
  source: OptInSource,
): ConsentChange | null {
  let basis = current?.status ?? null;
  if ((basis === "PENDING" || basis === "EXPIRED") && current?.settled === "OPTED_OUT") {
    basis = "OPTED_OUT";
  }
  const to = nextStatus(current?.status ?? null, {
    kind: "OPT_IN",
    confirmed: optInIsConfirmed(source, campaign.doubleOptIn, basis),
  });
  if (!to) return null;
  if (
    current?.status === "OPTED_OUT" &&
    ctx.occurredAt.getTime() < current.lastOccurredAt.getTime()
  ) {
    return null;
  }
  const inForce = disclosuresInForce(campaign, ctx.occurredAt);
  return {
    campaignId: campaign.id,
    from: current?.status ?? null,
    to,
    occurredAt: ctx.occurredAt,
    disclosureVersionId: inForce?.id ?? null,
    expiresAt: to === "PENDING" ? new Date(ctx.recordedAt.getTime() + ctx.pendingTtlMs) : null,
    evidence: {
      ...ctx.evidence,
      consentLanguage: inForce
        ? { version: inForce.version, sha256: inForce.consentLanguageHash }
        : {
            version: null,
            note: `no disclosures of this campaign were in force at ${ctx.occurredAt.toISOString()}`,
          },
    },
  };
}

/** The subscriber's "Y" to a pending opt-in; `strict` refuses when there is nothing to confirm. */
function confirm(
  state: DecisionState,
  ctx: CommandContext,
  campaign: CampaignFacts,
  strict: boolean,
): ConsentChange | null {
  const current = state.consents.get(campaign.id) ?? null;
  if (
    current?.status === "PENDING" &&
    current.expiresAt &&
    current.expiresAt.getTime() <= ctx.recordedAt.getTime()
  ) {
    if (!strict) return null;
    throw conflict(
      `The opt-in request expired at ${current.expiresAt.toISOString()}; the number must opt in again.`,
      "input.phone",
    );
  }
  if (!strict && current?.status !== "PENDING") return null;
  const to = nextStatus(current?.status ?? null, { kind: "CONFIRM" });
  if (!to || !current) return null;
  return {
    campaignId: campaign.id,
    from: current.status,
    to,
    occurredAt: ctx.occurredAt,
    disclosureVersionId: current.disclosureVersionId,
    expiresAt: null,
    evidence: { ...ctx.evidence, confirms: { sequence: current.lastSequence } },
  };
}

/**
 * Opt-out of each target. Campaigns that never had the number get an OPTED_OUT suppression record,
 * so no later integration call can opt it in silently, unless they no longer run (archived).
 */
function optOut(
  state: DecisionState,
  ctx: CommandContext,
  targets: readonly CampaignFacts[],
  scope: OptOutScope,
): Decision {
  const changes: ConsentChange[] = [];
  const changed: CampaignFacts[] = [];
  for (const campaign of targets) {
    const current = state.consents.get(campaign.id) ?? null;
    if (!current && campaign.status === "ARCHIVED") continue;
    const to = nextStatus(current?.status ?? null, { kind: "OPT_OUT" });
    if (!to) continue;
    changed.push(campaign);
    changes.push({
      campaignId: campaign.id,
      from: current?.status ?? null,
      to,
      occurredAt: ctx.occurredAt,
      disclosureVersionId: current?.disclosureVersionId ?? null,
      expiresAt: null,
      evidence: { ...ctx.evidence, scope },
    });
  }
  const message =
    changed.length === 0
      ? null
      : changed.length === 1
        ? optOutConfirmation(currentDisclosures(changed[0]))
        : organizationOptOutConfirmation([
            ...new Set(changed.map((c) => currentDisclosures(c).programName)),
          ]);
  return decided(
    changes,
    targets.map((c) => c.id),
    message,
  );
}

/** An inbound message, on the sender that received it, among the campaigns the actor may reach. */
function keyword(
  state: DecisionState,
  ctx: CommandContext,
  reachable: readonly CampaignFacts[],
  senderId: string,
  classification: Classification,
): Decision {
  const onSender = reachable.filter((c) => c.senderId === senderId);
  const live = onSender.filter((c) => c.status !== "ARCHIVED");
  const statusOf = (c: CampaignFacts) => state.consents.get(c.id)?.status ?? null;
  switch (classification.intent) {
    case "OPT_OUT":
      return optOut(state, ctx, onSender, "SENDER");
    case "OPT_OUT_ALL":
      return optOut(state, ctx, reachable, "ORGANIZATION");
    case "HELP": {
      const campaign =
        live.find((c) => statusOf(c) === "OPTED_IN") ??
        live.find((c) => c.status === "ACTIVE") ??
        live[0];
      return campaign
        ? decided([], [campaign.id], helpReply(currentDisclosures(campaign)))
        : decided([], [], null);
    }
    case "CONFIRM": {
      const changes = live
        .map((c) => confirm(state, ctx, c, false))
        .filter((change): change is ConsentChange => change !== null);
      if (changes.length === 0) return resubscribe(state, ctx, live);
      const first = live.find((c) => c.id === changes[0].campaignId)!;
      return decided(
        changes,
        changes.map((c) => c.campaignId),
        optInConfirmation(currentDisclosures(first)),
      );
    }
    case "OPT_IN": {
      const joined = live.find((c) =>
        c.keywords.some((k) => keywordKey(k) === classification.keyword),
      );
      if (joined) return optIn(state, ctx, joined, "JOIN_KEYWORD");
      // START or UNSTOP; a join keyword of a campaign out of the actor's reach changes nothing
      return isResubscribeKeyword(classification.keyword)
        ? resubscribe(state, ctx, live)
        : decided([], [], null);
    }
    case "UNKNOWN": {
      if (classification.review !== "HELD") return decided([], [], null);
      // nothing changes until someone decides; the message concerns what it would revoke
      const targets = classification.heldIntent === "OPT_OUT_ALL" ? reachable : onSender;
      return decided(
        [],
        targets.map((c) => c.id),
        null,
      );
    }
  }
}

/**
 * A decision on a message marked for review (docs/COMPLIANCE.md, "Review of flagged messages"):
 * - REVOCATION on a held message applies the opt-out it would have applied at receipt (its sender's
 *   campaigns, or the organization's for a revoke-all), within the scope of the key that sent it;
 * - NOT_REVOCATION on an applied opt-out restores exactly the consents it ended, each back to the
 *   status it had, unless that consent changed again since (a later opt-in or opt-out stands);
 *   a suppression record it made for a campaign the number never joined stays;
 * - the other two record the decision and change nothing.
 * A message is decided once. A PARTNER key decides only messages that concern its campaigns alone.
 * At the deadline (atDeadline) a held message nobody decided is applied; anything else is left.
 */
function review(
  state: DecisionState,
  ctx: CommandContext,
  reachable: readonly CampaignFacts[],
  command: Extract<ConsentCommand, { kind: "REVIEW" }>,
): Decision {
  const facts = state.reviews?.get(command.keywordEventId);
  if (!facts) return refused(notFound("keyword event", command.keywordEventId));
  const record: ReviewRecord = {
    keywordEventId: facts.keywordEventId,
    decision: command.decision,
    note: command.note,
    atDeadline: command.atDeadline,
  };
  if (command.atDeadline) {
    const due =
      facts.review === "HELD" &&
      !facts.decided &&
      facts.reviewDueAt !== null &&
      facts.reviewDueAt.getTime() <= ctx.recordedAt.getTime();
    if (!due || command.decision !== "REVOCATION") return decided([], [], null);
  } else {
    if (facts.review === "NONE") {
      return refused(badInput("input.id", "this message was not marked for review"));
    }
    if (
      ctx.scope !== null &&
      (facts.campaignIds.length === 0 || !facts.campaignIds.every((id) => inScope(ctx.scope, id)))
    ) {
      return refused(
        forbidden("This key may decide only messages that concern its own campaigns alone."),
      );
    }
    if (facts.decided) {
      return refused(conflict("This message's review was already decided.", "input.id"));
    }
  }
  const received = reachable.filter((c) => inScope(facts.receivedScope, c.id));
  let outcome: Decision;
  if (facts.review === "HELD" && command.decision === "REVOCATION") {
    const all = facts.heldIntent === "OPT_OUT_ALL";
    const targets = all ? received : received.filter((c) => c.senderId === facts.senderId);
    outcome = optOut(state, ctx, targets, all ? "ORGANIZATION" : "SENDER");
  } else if (facts.review === "APPLIED" && command.decision === "NOT_REVOCATION") {
    outcome = restore(state, ctx, received, facts);
  } else {
    outcome = decided([], [...facts.campaignIds], null);
  }
  // the subscriber gets no text about a review: the confirmation belonged to the message's time
  return outcome.kind === "DECIDED" ? { ...outcome, message: null, review: record } : outcome;
}

/**
 * The consents an applied opt-out ended, each back to the status it had before, when its last
 * event is still the one the message caused. A restored PENDING gets a new confirmation window.
 */
function restore(
  state: DecisionState,
  ctx: CommandContext,
  reachable: readonly CampaignFacts[],
  facts: ReviewFacts,
): Decision {
  const changes: ConsentChange[] = [];
  for (const event of facts.caused) {
    if (event.toStatus !== "OPTED_OUT" || event.fromStatus === null) continue;
    if (!reachable.some((c) => c.id === event.campaignId)) continue;
    const current = state.consents.get(event.campaignId);
    if (current?.status !== "OPTED_OUT" || current.lastSequence !== event.sequence) continue;
    changes.push({
      campaignId: event.campaignId,
      from: "OPTED_OUT",
      to: event.fromStatus,
      occurredAt: ctx.occurredAt,
      disclosureVersionId: current.disclosureVersionId,
      expiresAt:
        event.fromStatus === "PENDING"
          ? new Date(ctx.recordedAt.getTime() + ctx.pendingTtlMs)
          : null,
      evidence: { ...ctx.evidence, restores: { sequence: event.sequence } },
    });
  }
  return decided(changes, [...facts.campaignIds], null);
}

/**
 * START, UNSTOP, or YES with nothing pending: restores exactly the consents the subscriber had
 * given (OPTED_IN) that a keyword opt-out ended, never a campaign it never joined (a suppression
 * record is not a consent). A number with no consent at all on a sender that runs exactly one
 * active campaign joins it (with its double opt-in); otherwise nothing changes.
 */
function resubscribe(
  state: DecisionState,
  ctx: CommandContext,
  live: readonly CampaignFacts[],
): Decision {
  const restorable = live.filter((c) => {
    const consent = state.consents.get(c.id);
    return (
      consent?.status === "OPTED_OUT" &&
      consent.lastMethod === "KEYWORD" &&
      consent.lastFromStatus === "OPTED_IN"
    );
  });
  if (restorable.length > 0) {
    const changes = restorable
      .map((c) => optInChange(state.consents.get(c.id)!, ctx, c, "RESUBSCRIBE_KEYWORD"))
      .filter((change): change is ConsentChange => change !== null);
    if (changes.length === 0) return decided([], [], null);
    const first = live.find((c) => c.id === changes[0].campaignId)!;
    return decided(
      changes,
      changes.map((c) => c.campaignId),
      optInConfirmation(currentDisclosures(first)),
    );
  }
  const active = live.filter((c) => c.status === "ACTIVE");
  if (active.length === 1 && live.every((c) => !state.consents.has(c.id))) {
    return optIn(state, ctx, active[0], "JOIN_KEYWORD");
  }
  return decided([], [], null);
}

/** The subscriber's consent after a written change (its event at `sequence`). */
export function evolve(
  current: ConsentFacts | undefined,
  change: ConsentChange,
  written: { consentId: string; sequence: number; method: ConsentMethod },
): ConsentFacts {
  return {
    id: written.consentId,
    campaignId: change.campaignId,
    status: change.to,
    lastSequence: written.sequence,
    lastOccurredAt: change.occurredAt,
    lastFromStatus: change.from,
    lastMethod: written.method,
    settled:
      change.to === "OPTED_IN" || change.to === "OPTED_OUT"
        ? change.to
        : (current?.settled ?? null),
    disclosureVersionId: change.disclosureVersionId ?? current?.disclosureVersionId ?? null,
    expiresAt: change.expiresAt,
  };
}
