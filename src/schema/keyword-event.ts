// Inbound messages over GraphQL: KeywordEvent and the keywordEvents query.
import { decodeCursor, encodeCursor } from "../events/cursor.ts";
import { keywordStreamFilter } from "../services/streams.ts";
import { receiveInboundMessage } from "../services/inbound.ts";
import { markReviewed } from "../services/keyword-reviews.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { checkedPage } from "./cursors.ts";
import { KeywordIntentEnum } from "./enums.ts";
import { asRowId, filterId, rowIdOf } from "./ids.ts";

export const KeywordEvent = builder.prismaNode("KeywordEvent", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.keywordEvent(ctx.actor)] }),
  authScopes: (row, ctx) => sees.keywordEvent(ctx.actor, row),
  fields: (t) => ({
    cursor: t.string({
      description: "Pass as `after` to keywordEventReceived to resume right behind this message.",
      resolve: (event) => encodeCursor("keyword", event.sequence),
    }),
    sequence: t.exposeInt("sequence"),
    from: t.exposeString("from"),
    to: t.exposeString("to"),
    body: t.exposeString("body"),
    providerMessageId: t.exposeString("providerMessageId", { nullable: true }),
    keyword: t.exposeString("keyword", { nullable: true }),
    intent: t.expose("intent", { type: KeywordIntentEnum }),
    needsReview: t.exposeBoolean("needsReview"),
    reviewedAt: t.expose("reviewedAt", { type: "DateTime", nullable: true }),
    reply: t.exposeString("reply", { nullable: true }),
    repliedAt: t.expose("repliedAt", { type: "DateTime", nullable: true }),
    receivedAt: t.expose("receivedAt", { type: "DateTime" }),
    consentEvents: t.relation("consentEvents", {
      description: "The consent changes it caused, those of the key's campaigns only.",
      query: (_args, ctx) => ({
        where: visible.consentEvent(ctx.actor),
        orderBy: { sequence: "asc" },
      }),
    }),
    sender: t.prismaField({
      type: "Sender",
      nullable: true,
      description:
        "The sender that received it; null for a PARTNER key with no campaign on that sender.",
      select: { senderId: true },
      resolve: (query, event, _args, ctx) =>
        ctx.runtime.prisma.sender.findFirst({
          ...query,
          where: { AND: [{ id: event.senderId }, visible.sender(ctx.actor)] },
        }),
    }),
    campaigns: t.prismaField({
      type: ["Campaign"],
      description: "The campaigns the message resolved to, those of the key's campaigns only.",
      select: { campaignIds: true },
      resolve: (query, event, _args, ctx) =>
        ctx.runtime.prisma.campaign.findMany({
          ...query,
          where: { id: { in: event.campaignIds }, ...visible.campaign(ctx.actor) },
          orderBy: { id: "asc" },
        }),
    }),
  }),
});

builder.queryField("keywordEvents", (t) =>
  t.prismaConnection(
    {
      type: "KeywordEvent",
      cursor: "organizationId_sequence",
      args: {
        intent: t.arg({ type: KeywordIntentEnum }),
        needsReview: t.arg.boolean({ description: "True: flagged and not yet marked reviewed." }),
        campaignId: t.arg.id(),
        receivedAfter: t.arg({ type: "DateTime" }),
        receivedBefore: t.arg({ type: "DateTime" }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.keywordEvent.findMany({
          ...checkedPage(query, args),
          // the cursor is (organizationId, sequence): pages follow the sequence
          orderBy: { sequence: "asc" },
          where: {
            AND: [
              visible.keywordEvent(ctx.actor),
              args.intent ? { intent: args.intent } : {},
              args.needsReview == null
                ? {}
                : args.needsReview
                  ? { needsReview: true, reviewedAt: null }
                  : { OR: [{ needsReview: false }, { reviewedAt: { not: null } }] },
              args.campaignId != null
                ? { campaignIds: { has: filterId("Campaign", args.campaignId) } }
                : {},
              args.receivedAfter ? { receivedAt: { gte: args.receivedAfter } } : {},
              args.receivedBefore ? { receivedAt: { lt: args.receivedBefore } } : {},
            ],
          },
        }),
    },
    { name: "KeywordEventConnection" },
    { name: "KeywordEventEdge" },
  ),
);

const InboundMessageInput = builder.inputType("InboundMessageInput", {
  fields: (t) => ({
    from: t.string({ required: true, description: "The subscriber's number." }),
    to: t.string({
      required: true,
      description: "The sender that received it (E.164 or short code).",
    }),
    body: t.string({ required: true }),
    providerMessageId: t.string({ description: "A retry with the same id is processed once." }),
    receivedAt: t.field({ type: "DateTime" }),
  }),
});

const InboundMessagePayload = builder.simpleObject("InboundMessagePayload", {
  fields: (t) => ({
    keywordEvent: t.field({ type: KeywordEvent }),
    reply: t.string({ nullable: true, description: "The text to send back, if any." }),
    duplicate: t.boolean({ description: "True when the provider message id was seen before." }),
  }),
});

const MarkKeywordEventReviewedInput = builder.inputType("MarkKeywordEventReviewedInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const MarkKeywordEventReviewedPayload = builder.simpleObject("MarkKeywordEventReviewedPayload", {
  fields: (t) => ({ keywordEvent: t.field({ type: KeywordEvent }) }),
});

builder.mutationFields((t) => ({
  receiveInboundMessage: t.field({
    type: InboundMessagePayload,
    description:
      "Processes an inbound SMS as if a provider had posted it (the Twilio webhook does the same).",
    authScopes: { writeConsent: true },
    args: { input: t.arg({ type: InboundMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) => receiveInboundMessage(ctx.runtime, ctx.actor, input),
  }),
  markKeywordEventReviewed: t.field({
    type: MarkKeywordEventReviewedPayload,
    description:
      "Records that a person looked at a message flagged needsReview: on an APPLIED opt-out, a REVOCATION decision.",
    deprecationReason: "Use resolveKeywordReview, which records the decision and its effect.",
    authScopes: { configure: true },
    args: { input: t.arg({ type: MarkKeywordEventReviewedInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      keywordEvent: await markReviewed(
        ctx.runtime,
        ctx.actor,
        rowIdOf("KeywordEvent", String(input.id)),
      ),
    }),
  }),
}));

builder.subscriptionField("keywordEventReceived", (t) =>
  t.field({
    type: KeywordEvent,
    description: "Inbound messages as they are processed; `after` resumes like consentChanged.",
    args: { campaignId: t.arg.id(), after: t.arg.string() },
    subscribe: async (_root, args, ctx) => {
      const filter = await keywordStreamFilter(ctx, {
        campaignId:
          args.campaignId == null ? undefined : rowIdOf("Campaign", String(args.campaignId)),
      });
      const streams = ctx.runtime.streams.keywordEvents;
      const organizationId = ctx.actor.organizationId;
      const after =
        args.after != null
          ? decodeCursor("keyword", args.after)
          : await streams.head(organizationId);
      return streams.open(organizationId, after, filter, ctx.onSlowConsumer);
    },
    resolve: (event) => event,
  }),
);
