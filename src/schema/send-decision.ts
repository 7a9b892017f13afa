// canSend and canSendMany over GraphQL: the answer a sender asks for before every message.
import { canSend, canSendMany, MAX_BATCH } from "../services/send-decisions.ts";
import { builder } from "./builder.ts";
import { Consent } from "./consent.ts";
import { rowIdOf } from "./ids.ts";

const SendDecisionReasonEnum = builder.enumType("SendDecisionReason", {
  values: [
    "ALLOWED",
    "NO_CONSENT",
    "PENDING_CONFIRMATION",
    "OPTED_OUT",
    "CAMPAIGN_NOT_ACTIVE",
    "QUIET_HOURS",
  ] as const,
});

const SendDecision = builder.simpleObject("SendDecision", {
  fields: (t) => ({
    phone: t.string({ description: "The number as E.164." }),
    allowed: t.boolean(),
    reason: t.field({ type: SendDecisionReasonEnum }),
    consent: t.field({ type: Consent, nullable: true }),
    nextAllowedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "For QUIET_HOURS: the first instant the message would be allowed.",
    }),
  }),
});

builder.queryFields((t) => ({
  canSend: t.field({
    type: SendDecision,
    description: "May this number be texted for this campaign at `at` (default: now)?",
    args: {
      phone: t.arg.string({ required: true }),
      campaignId: t.arg.id({ required: true }),
      at: t.arg({ type: "DateTime" }),
    },
    resolve: (_root, args, ctx) =>
      canSend(
        ctx.runtime,
        ctx.actor,
        args.phone,
        rowIdOf("Campaign", String(args.campaignId)),
        args.at,
      ),
  }),
  canSendMany: t.field({
    type: [SendDecision],
    description: `canSend for up to ${MAX_BATCH} numbers at once, in input order, in one database round trip.`,
    args: {
      phones: t.arg.stringList({ required: true }),
      campaignId: t.arg.id({ required: true }),
      at: t.arg({ type: "DateTime" }),
    },
    resolve: (_root, args, ctx) =>
      canSendMany(
        ctx.runtime,
        ctx.actor,
        args.phones,
        rowIdOf("Campaign", String(args.campaignId)),
        args.at,
      ),
  }),
}));
