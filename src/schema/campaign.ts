// Campaigns over GraphQL: the type with its versioned disclosures and live stats, the campaign
// queries, and the create, update and status mutations.
import DataLoader from "dataloader";
import type { TextTranslation } from "../domain/campaign.ts";
import { translationsOf } from "../domain/messages.ts";
import { campaignStats, type CampaignStats as StatsCounts } from "../services/campaign-stats.ts";
import { createCampaign, setCampaignStatus, updateCampaign } from "../services/campaigns.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import type { Context } from "./context.ts";
import { ConsentConnection } from "./consent.ts";
import { checkedPage, checkPageArgs } from "./cursors.ts";
import { CampaignPurposeEnum, CampaignStatusEnum, ConsentStatusEnum } from "./enums.ts";
import { asRowId, rowIdOf, rowIdOrNull } from "./ids.ts";

const CampaignTextTranslation = builder.simpleObject("CampaignTextTranslation", {
  description: "A campaign's reply texts in one language.",
  fields: (t) => ({
    locale: t.string({ description: 'BCP 47 language tag ("es", "pt-BR").' }),
    helpText: t.string(),
    optInConfirmation: t.string(),
    optOutConfirmation: t.string(),
  }),
});

const Disclosures = builder.prismaObject("DisclosureVersion", {
  name: "Disclosures",
  authScopes: (row, ctx) => sees.disclosure(ctx.actor, row),
  fields: (t) => ({
    version: t.exposeInt("version"),
    programName: t.exposeString("programName"),
    messageFrequency: t.exposeString("messageFrequency"),
    termsUrl: t.exposeString("termsUrl", { nullable: true }),
    privacyUrl: t.exposeString("privacyUrl", { nullable: true }),
    helpText: t.exposeString("helpText"),
    optInConfirmation: t.exposeString("optInConfirmation"),
    optOutConfirmation: t.exposeString("optOutConfirmation"),
    consentLanguage: t.exposeString("consentLanguage"),
    consentLanguageHash: t.exposeString("consentLanguageHash", {
      description: "SHA-256 (hex) of consentLanguage, recorded with every consent given under it.",
    }),
    translations: t.field({
      type: [CampaignTextTranslation],
      description:
        "The reply texts in other languages. A reply goes out in the subscriber's stored locale, else in the language of the keyword they texted, when one of these has it; else in the texts above.",
      resolve: (row) => translationsOf(row.translations),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const CampaignStats = builder.simpleObject("CampaignStats", {
  fields: (t) => ({
    optedIn: t.int(),
    optedOut: t.int({ description: "Numbers that had consented and opted out." }),
    pending: t.int(),
    suppressed: t.int({
      description:
        "Numbers blocked without ever having joined: the suppression records a wider opt-out (STOP to the sender, an organization-wide opt-out) leaves on campaigns the number never joined.",
    }),
    expired: t.int({ description: "Double opt-ins never confirmed." }),
  }),
});

/** One stats query per request for every campaign it shows. */
const statsLoaders = new WeakMap<Context, DataLoader<string, StatsCounts>>();
const statsOf = (ctx: Context, campaignId: string) => {
  let loader = statsLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids) => campaignStats(ctx.runtime, ids));
    statsLoaders.set(ctx, loader);
  }
  return loader.load(campaignId);
};

export const Campaign = builder.prismaNode("Campaign", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.campaign(ctx.actor)] }),
  authScopes: (row, ctx) => sees.campaign(ctx.actor, row),
  fields: (t) => ({
    name: t.exposeString("name"),
    purpose: t.expose("purpose", { type: CampaignPurposeEnum }),
    status: t.expose("status", { type: CampaignStatusEnum }),
    sender: t.relation("sender"),
    keywords: t.exposeStringList("keywords"),
    doubleOptIn: t.exposeBoolean("doubleOptIn"),
    disclosures: t.field({
      type: Disclosures,
      description: "The current disclosures (the highest version).",
      select: (_args, _ctx, nestedSelection) => ({
        disclosures: nestedSelection({ orderBy: { version: "desc" }, take: 1 }),
      }),
      resolve: (campaign) => campaign.disclosures[0],
    }),
    disclosureHistory: t.relation("disclosures", {
      description: "Every version of the disclosures, oldest first.",
      query: { orderBy: { version: "asc" } },
    }),
    stats: t.field({
      type: CampaignStats,
      select: { id: true },
      resolve: (campaign, _args, ctx) => statsOf(ctx, campaign.id),
    }),
    consents: t.relatedConnection(
      "consents",
      {
        cursor: "id",
        args: { status: t.arg({ type: ConsentStatusEnum }) },
        query: (args, ctx) => {
          checkPageArgs(args as { after?: string | null }, "id");
          return {
            where: {
              AND: [visible.consent(ctx.actor), args.status ? { status: args.status } : {}],
            },
          };
        },
      },
      ConsentConnection,
    ),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

builder.queryFields((t) => ({
  campaign: t.prismaField({
    type: "Campaign",
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = rowIdOrNull("Campaign", String(args.id));
      if (!id) return null;
      return ctx.runtime.prisma.campaign.findFirst({
        ...query,
        where: { AND: [{ id }, visible.campaign(ctx.actor)] },
      });
    },
  }),
  campaigns: t.prismaConnection(
    {
      type: "Campaign",
      cursor: "id",
      args: { status: t.arg({ type: CampaignStatusEnum }) },
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.campaign.findMany({
          ...checkedPage(query, args),
          where: { AND: [visible.campaign(ctx.actor), args.status ? { status: args.status } : {}] },
        }),
    },
    { name: "CampaignConnection" },
    { name: "CampaignEdge" },
  ),
}));

const CampaignTextTranslationInput = builder.inputType("CampaignTextTranslationInput", {
  fields: (t) => ({
    locale: t.string({ required: true, description: 'BCP 47 language tag ("es", "pt-BR").' }),
    helpText: t.string({ required: true }),
    optInConfirmation: t.string({ required: true }),
    optOutConfirmation: t.string({ required: true }),
  }),
});

export const DisclosuresInput = builder.inputType("DisclosuresInput", {
  fields: (t) => ({
    programName: t.string({ required: true }),
    messageFrequency: t.string({ required: true }),
    termsUrl: t.string(),
    privacyUrl: t.string(),
    helpText: t.string({ required: true }),
    optInConfirmation: t.string({ required: true }),
    optOutConfirmation: t.string({ required: true }),
    consentLanguage: t.string({ required: true }),
    translations: t.field({
      type: [CampaignTextTranslationInput],
      description:
        "The reply texts (HELP, opt-in and opt-out confirmations) in other languages, one per locale.",
    }),
  }),
});

const CreateCampaignInput = builder.inputType("CreateCampaignInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    purpose: t.field({ type: CampaignPurposeEnum, required: true }),
    senderId: t.id({ required: true }),
    keywords: t.stringList(),
    doubleOptIn: t.boolean(),
    disclosures: t.field({ type: DisclosuresInput, required: true }),
  }),
});

const UpdateCampaignInput = builder.inputType("UpdateCampaignInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    keywords: t.stringList(),
    doubleOptIn: t.boolean(),
    disclosures: t.field({ type: DisclosuresInput }),
  }),
});

const SetCampaignStatusInput = builder.inputType("SetCampaignStatusInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    status: t.field({ type: CampaignStatusEnum, required: true }),
  }),
});

const disclosuresOf = (d: {
  programName: string;
  messageFrequency: string;
  termsUrl?: string | null;
  privacyUrl?: string | null;
  helpText: string;
  optInConfirmation: string;
  optOutConfirmation: string;
  consentLanguage: string;
  translations?: readonly TextTranslation[] | null;
}) => ({ ...d, termsUrl: d.termsUrl ?? null, privacyUrl: d.privacyUrl ?? null });

function campaignPayload(name: string) {
  return builder.simpleObject(name, { fields: (t) => ({ campaign: t.field({ type: Campaign }) }) });
}

/**
 * A committed campaign change wakes every instance (this one included, before the answer goes
 * out), so send-decision caches stop answering with the old status or purpose at once.
 */
function campaignChanged<T>(ctx: Context, payload: T): T {
  ctx.runtime.wakeups.publish(ctx.actor.organizationId);
  return payload;
}

builder.mutationFields((t) => ({
  createCampaign: t.field({
    type: campaignPayload("CreateCampaignPayload"),
    authScopes: { configure: true },
    args: { input: t.arg({ type: CreateCampaignInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      campaign: await createCampaign(ctx.runtime.prisma, ctx.actor, {
        ...input,
        senderId: rowIdOf("Sender", String(input.senderId)),
        disclosures: disclosuresOf(input.disclosures),
      }),
    }),
  }),
  updateCampaign: t.field({
    type: campaignPayload("UpdateCampaignPayload"),
    authScopes: { configure: true },
    args: { input: t.arg({ type: UpdateCampaignInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      campaignChanged(ctx, {
        campaign: await updateCampaign(ctx.runtime.prisma, ctx.actor, {
          ...input,
          id: rowIdOf("Campaign", String(input.id)),
          disclosures: input.disclosures ? disclosuresOf(input.disclosures) : null,
        }),
      }),
  }),
  setCampaignStatus: t.field({
    type: campaignPayload("SetCampaignStatusPayload"),
    authScopes: { configure: true },
    args: { input: t.arg({ type: SetCampaignStatusInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      campaignChanged(ctx, {
        campaign: await setCampaignStatus(ctx.runtime.prisma, ctx.actor, {
          id: rowIdOf("Campaign", String(input.id)),
          status: input.status,
        }),
      }),
  }),
}));
