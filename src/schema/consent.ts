// Consent: the current state of one subscriber for one campaign, and the consents query.
import { confirmOptIn, optIn, optOut } from "../services/consents.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { ConsentMethodEnum, ConsentStatusEnum } from "./enums.ts";
import { ConsentEvent } from "./consent-event.ts";
import { checkedPage } from "./cursors.ts";
import { asRowId, filterId, rowIdOf } from "./ids.ts";

export const Consent = builder.prismaNode("Consent", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.consent(ctx.actor)] }),
  authScopes: (row, ctx) => sees.consent(ctx.actor, row),
  fields: (t) => ({
    subscriber: t.relation("subscriber"),
    campaign: t.relation("campaign"),
    status: t.expose("status", { type: ConsentStatusEnum }),
    method: t.expose("method", { type: ConsentMethodEnum }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      nullable: true,
      description: "When a PENDING consent expires unless confirmed.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

export const ConsentConnection = builder.connectionObject(
  { type: Consent, name: "ConsentConnection" },
  { name: "ConsentEdge" },
);

builder.queryField("consents", (t) =>
  t.prismaConnection(
    {
      type: "Consent",
      cursor: "id",
      args: {
        campaignId: t.arg.id(),
        subscriberId: t.arg.id(),
        status: t.arg({ type: ConsentStatusEnum }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.consent.findMany({
          ...checkedPage(query, args),
          where: {
            AND: [
              visible.consent(ctx.actor),
              args.campaignId != null ? { campaignId: filterId("Campaign", args.campaignId) } : {},
              args.subscriberId != null
                ? { subscriberId: filterId("Subscriber", args.subscriberId) }
                : {},
              args.status ? { status: args.status } : {},
            ],
          },
        }),
    },
    ConsentConnection,
  ),
);

export const OptOutScopeEnum = builder.enumType("OptOutScope", {
  values: {
    CAMPAIGN: { description: "Only the named campaign." },
    SENDER: { description: "Every campaign of the organization on the named campaign's sender." },
    ORGANIZATION: { description: "Every campaign of the organization." },
  } as const,
});

const OptInInput = builder.inputType("OptInInput", {
  fields: (t) => ({
    phone: t.string({ required: true, description: "Any common format; stored as E.164." }),
    campaignId: t.id({ required: true }),
    method: t.field({ type: ConsentMethodEnum, required: true }),
    occurredAt: t.field({
      type: "DateTime",
      description: "When consent was given, if not now (imports, delayed integrations).",
    }),
    evidence: t.field({
      type: "JSON",
      description:
        "A JSON object: ip, userAgent, pageUrl and any details. The consent-language version is added.",
    }),
    idempotencyKey: t.string({ description: "Retries with the same key return the first result." }),
  }),
});

const OptInPayload = builder.simpleObject("OptInPayload", {
  fields: (t) => ({
    consent: t.field({ type: Consent }),
    event: t.field({
      type: ConsentEvent,
      nullable: true,
      description: "Null when nothing changed.",
    }),
    changed: t.boolean({
      description: "False when the consent already was in the requested state.",
    }),
    confirmationMessage: t.string({
      nullable: true,
      description:
        "The text to send: the double opt-in prompt when PENDING, the opt-in confirmation when OPTED_IN.",
    }),
  }),
});

const ConfirmationMessageInput = builder.inputType("ConfirmationMessageInput", {
  description:
    "The subscriber's reply that confirms a pending double opt-in, as the provider delivered it.",
  fields: (t) => ({
    from: t.string({ required: true, description: "The subscriber's number." }),
    body: t.string({ required: true, description: "The reply: Y or YES." }),
    providerMessageId: t.string({ required: true }),
    receivedAt: t.field({ type: "DateTime", description: "When it arrived; now by default." }),
  }),
});

const ConfirmOptInInput = builder.inputType("ConfirmOptInInput", {
  fields: (t) => ({
    phone: t.string({ required: true }),
    campaignId: t.id({ required: true }),
    message: t.field({
      type: ConfirmationMessageInput,
      description:
        "Required: a confirmation is the subscriber's own reply. It is recorded as a KeywordEvent that the ledger event cites.",
    }),
    evidence: t.field({ type: "JSON" }),
  }),
});

const ConfirmOptInPayload = builder.simpleObject("ConfirmOptInPayload", {
  fields: (t) => ({
    consent: t.field({ type: Consent }),
    event: t.field({ type: ConsentEvent, nullable: true }),
    changed: t.boolean(),
  }),
});

const OptOutInput = builder.inputType("OptOutInput", {
  fields: (t) => ({
    phone: t.string({ required: true }),
    campaignId: t.id({ description: "Required unless scope is ORGANIZATION." }),
    scope: t.field({ type: OptOutScopeEnum, description: "CAMPAIGN by default." }),
    method: t.field({ type: ConsentMethodEnum, required: true }),
    reason: t.string(),
    evidence: t.field({ type: "JSON" }),
    idempotencyKey: t.string(),
  }),
});

const OptOutPayload = builder.simpleObject("OptOutPayload", {
  fields: (t) => ({
    consents: t.field({ type: [Consent], description: "The consents in scope, changed or not." }),
    events: t.field({ type: [ConsentEvent], description: "One per consent that changed." }),
    changed: t.boolean(),
    confirmationMessage: t.string({
      nullable: true,
      description: "The one opt-out confirmation to send.",
    }),
  }),
});

builder.mutationFields((t) => ({
  optIn: t.field({
    type: OptInPayload,
    authScopes: { writeConsent: true },
    args: { input: t.arg({ type: OptInInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      optIn(ctx.runtime, ctx.actor, {
        ...input,
        campaignId: rowIdOf("Campaign", String(input.campaignId)),
      }),
  }),
  confirmOptIn: t.field({
    type: ConfirmOptInPayload,
    authScopes: { writeConsent: true },
    args: { input: t.arg({ type: ConfirmOptInInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      confirmOptIn(ctx.runtime, ctx.actor, {
        ...input,
        campaignId: rowIdOf("Campaign", String(input.campaignId)),
      }),
  }),
  optOut: t.field({
    type: OptOutPayload,
    authScopes: { writeConsent: true },
    args: { input: t.arg({ type: OptOutInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      optOut(ctx.runtime, ctx.actor, {
        ...input,
        campaignId: input.campaignId == null ? null : rowIdOf("Campaign", String(input.campaignId)),
      }),
  }),
}));
