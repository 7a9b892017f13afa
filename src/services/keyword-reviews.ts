// The review queue of inbound messages marked for review (docs/COMPLIANCE.md, "Review of flagged
// messages"): a person's decision on one (resolveKeywordReview), and the deadline sweep that
// applies a held message nobody decided by its reviewDueAt (fail safe). Both are REVIEW commands
// for the decider (src/domain/decider.ts), written by the ledger writer with the decision itself,
// so a decision and the consent events it causes commit together or not at all.
import { canWriteConsent, type Actor } from "../domain/api-key.ts";
import type { ReviewDecision } from "../domain/decider.ts";
import { badInput, notFound } from "../domain/errors.ts";
import { messageEvidence } from "../domain/inbound-message.ts";
import type { KeywordEvent } from "../generated/prisma/client.ts";
import { write, type LedgerOutcome } from "./ledger.ts";
import type { Runtime } from "./runtime.ts";
import { visible } from "./visibility.ts";

export const MAX_REVIEW_NOTE = 2000;

export interface ResolveKeywordReviewInput {
  /** the message's database id */
  id: string;
  decision: ReviewDecision;
  note?: string | null;
}

function checkNote(note: string | null | undefined): string | null {
  if (note == null) return null;
  const trimmed = note.trim();
  if (trimmed.length > MAX_REVIEW_NOTE) {
    throw badInput("input.note", `must be at most ${MAX_REVIEW_NOTE} characters`);
  }
  if (trimmed.includes("\u0000")) throw badInput("input.note", "must not contain NUL characters");
  return trimmed === "" ? null : (trimmed as string & { toWellFormed(): string }).toWellFormed();
}

/** What the events of a review cite: the message, and the decision with who made it and when. */
const reviewEvidence = (
  event: KeywordEvent,
  review: {
    decision: ReviewDecision;
    note: string | null;
    reviewerApiKeyId: string | null;
    decidedAt: Date;
    atDeadline: boolean;
  },
) => ({
  message: messageEvidence(event),
  review: {
    keywordEventId: event.id,
    marked: event.review,
    decision: review.decision,
    note: review.note,
    reviewerApiKeyId: review.reviewerApiKeyId,
    decidedAt: review.decidedAt.toISOString(),
    ...(review.atDeadline
      ? { atDeadline: true, reviewDueAt: event.reviewDueAt?.toISOString() ?? null }
      : {}),
  },
});

/** The message's review command for the ledger writer. */
function reviewRequest(
  runtime: Runtime,
  event: KeywordEvent,
  decision: ReviewDecision,
  note: string | null,
  who: { actor: Actor | null; now: Date },
) {
  const atDeadline = who.actor === null;
  return {
    phone: event.from,
    command: {
      kind: "REVIEW" as const,
      keywordEventId: event.id,
      decision,
      note,
      atDeadline,
    },
    context: {
      // the deadline acts for the subscriber; a person within their key's scope
      scope: who.actor?.campaignIds ?? null,
      mayWrite: who.actor ? canWriteConsent(who.actor) : true,
      // a revocation is the subscriber's own message; a restoration is the reviewer's decision
      method: decision === "REVOCATION" ? ("KEYWORD" as const) : ("ADMIN" as const),
      // the subscriber revoked when the message arrived; a restoration happens now
      occurredAt: decision === "REVOCATION" ? event.receivedAt : who.now,
      recordedAt: who.now,
      pendingTtlMs: runtime.config.pendingTtlHours * 3_600_000,
      evidence: reviewEvidence(event, {
        decision,
        note,
        reviewerApiKeyId: who.actor?.apiKeyId ?? null,
        decidedAt: who.now,
        atDeadline,
      }),
    },
    apiKeyId: who.actor?.apiKeyId ?? null,
  };
}

/**
 * Records a person's decision on a message marked for review and applies what it implies.
 * NOT_FOUND for a message the key cannot see; the decider refuses the rest (VIEWER, a PARTNER
 * outside its campaigns, a message not marked, one decided before).
 */
export async function resolveKeywordReview(
  runtime: Runtime,
  actor: Actor,
  input: ResolveKeywordReviewInput,
) {
  const now = new Date();
  const note = checkNote(input.note);
  const event = await runtime.prisma.keywordEvent.findFirst({
    where: { id: input.id, AND: [visible.keywordEvent(actor)] },
  });
  if (!event) throw notFound("keyword event", input.id);
  const outcome = await write(
    runtime,
    actor.organizationId,
    reviewRequest(runtime, event, input.decision, note, { actor, now }),
  );
  const written = writtenOrThrow(outcome);
  const keywordEvent = await runtime.prisma.keywordEvent.findUniqueOrThrow({
    where: { id: event.id },
  });
  return { keywordEvent, consentEvents: written.events };
}

/**
 * The older "Mark reviewed" (deprecated): on an applied opt-out it is a REVOCATION decision (the
 * opt-out stands); a message decided before is returned as it is; a held message needs a decision.
 */
export async function markReviewed(runtime: Runtime, actor: Actor, id: string) {
  const event = await runtime.prisma.keywordEvent.findFirst({
    where: { id, AND: [visible.keywordEvent(actor)] },
  });
  if (!event) throw notFound("keyword event", id);
  if (event.reviewDecision !== null) return event;
  if (event.review === "HELD") {
    throw badInput(
      "input.id",
      "this message was held without an opt-out: decide it with resolveKeywordReview",
    );
  }
  const { keywordEvent } = await resolveKeywordReview(runtime, actor, {
    id,
    decision: "REVOCATION",
    note: "marked reviewed",
  });
  return keywordEvent;
}

function writtenOrThrow(outcome: LedgerOutcome) {
  if (outcome.kind === "REFUSED") throw outcome.error;
  if (outcome.kind !== "WRITTEN") throw new Error(`a review came back ${outcome.kind}`);
  return outcome;
}

/**
 * Applies, as opt-outs, the held messages nobody decided by their review deadline (one decision
 * each, REVOCATION at the deadline). Returns how many changed a consent. Safe to run from several
 * instances at once: the writer records a message's decision once. `only` limits it to one
 * organization.
 */
export async function applyOverdueReviews(
  runtime: Runtime,
  now = new Date(),
  only: { organizationId?: string } = {},
): Promise<number> {
  const due = await runtime.prisma.keywordEvent.findMany({
    where: {
      review: "HELD",
      reviewDecision: null,
      reviewDueAt: { lte: now },
      ...(only.organizationId ? { organizationId: only.organizationId } : {}),
    },
    orderBy: [{ reviewDueAt: "asc" }, { id: "asc" }],
  });
  const outcomes = await Promise.all(
    due.map((event) =>
      write(
        runtime,
        event.organizationId,
        reviewRequest(runtime, event, "REVOCATION", "applied at the review deadline", {
          actor: null,
          now,
        }),
      ),
    ),
  );
  return outcomes.filter((o) => o.kind === "WRITTEN" && o.changed).length;
}

/** Open reviews past their deadline, by mark: what the overdue gauge reports. */
export async function countOverdueReviews(runtime: Runtime, now = new Date()) {
  const groups = await runtime.prisma.keywordEvent.groupBy({
    by: ["review"],
    where: { review: { not: "NONE" }, reviewDecision: null, reviewDueAt: { lt: now } },
    _count: { _all: true },
  });
  const counts = { APPLIED: 0, HELD: 0 };
  for (const group of groups) {
    if (group.review !== "NONE") counts[group.review] = group._count._all;
  }
  return counts;
}
