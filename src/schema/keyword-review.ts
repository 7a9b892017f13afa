// The review of flagged inbound messages over GraphQL: what each KeywordEvent says about its
// review, the queue of open reviews by due date, and a reviewer's decision.
import { KeywordReview, ReviewDecision } from "../generated/prisma/enums.ts";
import { resolveKeywordReview } from "../services/keyword-reviews.ts";
import { visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { ConsentEvent } from "./consent-event.ts";
import { checkedPage } from "./cursors.ts";
import { KeywordIntentEnum } from "./enums.ts";
import { rowIdOf } from "./ids.ts";
import { KeywordEvent } from "./keyword-event.ts";

export const KeywordReviewEnum = builder.enumType(KeywordReview, {
  name: "KeywordReview",
  description:
    "What a person must do with a message: NONE; APPLIED (an opt-out read from other words, applied at once, to confirm or reverse); HELD (an opt-out word that read as no revocation: nothing changed; applied at reviewDueAt unless decided).",
});

export const ReviewDecisionEnum = builder.enumType(ReviewDecision, {
  name: "ReviewDecision",
  description: "A reviewer's answer: the message revoked consent, or it did not.",
});

builder.prismaObjectFields(KeywordEvent, (t) => ({
  review: t.expose("review", { type: KeywordReviewEnum }),
  heldIntent: t.expose("heldIntent", {
    type: KeywordIntentEnum,
    nullable: true,
    description: "For a HELD message: the opt-out a REVOCATION decision applies.",
  }),
  reviewDueAt: t.expose("reviewDueAt", {
    type: "DateTime",
    nullable: true,
    description:
      "When a message marked for review must be decided: the FCC's 10 business days after receipt, less OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS.",
  }),
  reviewDecision: t.expose("reviewDecision", { type: ReviewDecisionEnum, nullable: true }),
  reviewNote: t.exposeString("reviewNote", { nullable: true }),
  reviewedAtDeadline: t.exposeBoolean("reviewedAtDeadline", {
    description: "True when nobody decided a HELD message by reviewDueAt and it was applied.",
  }),
  reviewedBy: t.prismaField({
    type: "ApiKey",
    nullable: true,
    description: "The key whose holder decided (visible to ADMIN keys).",
    select: { reviewedByApiKeyId: true },
    resolve: (query, event, _args, ctx) =>
      event.reviewedByApiKeyId === null
        ? null
        : ctx.runtime.prisma.apiKey.findFirst({
            ...query,
            where: { AND: [{ id: event.reviewedByApiKeyId }, visible.apiKey(ctx.actor)] },
          }),
  }),
}));

builder.queryField("keywordReviews", (t) =>
  t.prismaConnection(
    {
      type: "KeywordEvent",
      cursor: "id",
      description:
        "Open reviews (messages marked for review and not yet decided), the one due first first.",
      args: {
        overdue: t.arg.boolean({
          description: "True: only those past reviewDueAt; false: only those not yet due.",
        }),
      },
      resolve: (query, _root, args, ctx) => {
        const now = new Date();
        return ctx.runtime.prisma.keywordEvent.findMany({
          ...checkedPage(query, args),
          orderBy: [{ reviewDueAt: "asc" }, { id: "asc" }],
          where: {
            AND: [
              visible.keywordEvent(ctx.actor),
              { review: { not: "NONE" }, reviewDecision: null },
              args.overdue == null
                ? {}
                : args.overdue
                  ? { reviewDueAt: { lt: now } }
                  : { reviewDueAt: { gte: now } },
            ],
          },
        });
      },
    },
    { name: "KeywordReviewConnection" },
    { name: "KeywordReviewEdge" },
  ),
);

const ResolveKeywordReviewInput = builder.inputType("ResolveKeywordReviewInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: "The KeywordEvent marked for review." }),
    decision: t.field({ type: ReviewDecisionEnum, required: true }),
    note: t.string({ description: "Why (kept with the decision and cited by its ledger events)." }),
  }),
});

const ResolveKeywordReviewPayload = builder.simpleObject("ResolveKeywordReviewPayload", {
  fields: (t) => ({
    keywordEvent: t.field({ type: KeywordEvent }),
    consentEvents: t.field({
      type: [ConsentEvent],
      description: "The consent changes the decision made (none when it only records it).",
    }),
  }),
});

builder.mutationField("resolveKeywordReview", (t) =>
  t.field({
    type: ResolveKeywordReviewPayload,
    description:
      "Decides a message marked for review. NOT_REVOCATION on an APPLIED opt-out restores the consents it ended (those not changed since); REVOCATION on a HELD message applies its opt-out; the other two record the decision. A message is decided once (CONFLICT).",
    args: { input: t.arg({ type: ResolveKeywordReviewInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      resolveKeywordReview(ctx.runtime, ctx.actor, {
        id: rowIdOf("KeywordEvent", String(input.id)),
        decision: input.decision,
        note: input.note,
      }),
  }),
);
