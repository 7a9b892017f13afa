// Campaigns: creating and changing messaging programs. A change to the disclosures writes a new
// disclosure version; consents keep pointing at the version they were given under.
import { canConfigure, type Actor } from "../domain/api-key.ts";
import {
  assertStatusChange,
  consentLanguageHash,
  normalizeJoinKeywords,
  sameDisclosures,
  validateCampaignName,
  validateDisclosures,
  type CampaignPurpose,
  type CampaignStatus,
  type Disclosures,
  type DisclosuresInput,
} from "../domain/campaign.ts";
import { conflict, forbidden, notFound } from "../domain/errors.ts";
import { keywordKey } from "../domain/keywords.ts";
import type { Prisma } from "../db/client.ts";
import { isUniqueViolation } from "./prisma-errors.ts";
import type { Tx } from "./transaction.ts";

export interface CreateCampaignInput {
  name: string;
  purpose: CampaignPurpose;
  senderId: string;
  keywords?: readonly string[] | null;
  doubleOptIn?: boolean | null;
  disclosures: DisclosuresInput;
}

export interface UpdateCampaignInput {
  id: string;
  name?: string | null;
  keywords?: readonly string[] | null;
  doubleOptIn?: boolean | null;
  disclosures?: DisclosuresInput | null;
}

function assertConfigure(actor: Actor) {
  if (!canConfigure(actor)) throw forbidden("Only ADMIN and OPERATOR keys may change campaigns.");
}

const disclosureRow = (d: Disclosures) => ({
  ...d,
  translations: d.translations.map((t) => ({ ...t })),
  consentLanguageHash: consentLanguageHash(d.consentLanguage),
});

/**
 * A join keyword must lead to one campaign: refuse keywords already used by another live campaign
 * on the same sender. The sender row is locked so two concurrent writers cannot both pass.
 */
async function assertKeywordsFree(
  tx: Tx,
  senderId: string,
  keywords: string[],
  exceptCampaignId?: string,
) {
  await tx.$queryRaw`select id from "Sender" where id = ${senderId}::uuid for update`;
  if (keywords.length === 0) return;
  // Compare the matching forms (accent-free), as inbound messages are matched: ARRÊTE and ARRETE
  // would route the same message, so they clash.
  const wanted = new Map(keywords.map((k) => [keywordKey(k), k]));
  const live = await tx.campaign.findMany({
    where: {
      senderId,
      status: { not: "ARCHIVED" },
      ...(exceptCampaignId ? { id: { not: exceptCampaignId } } : {}),
    },
    select: { name: true, keywords: true },
  });
  for (const clash of live) {
    const taken = clash.keywords.map(keywordKey).filter((k) => wanted.has(k));
    if (taken.length === 0) continue;
    throw conflict(
      `Keyword ${taken.map((k) => wanted.get(k)).join(", ")} is already used by campaign "${clash.name}" on this sender.`,
      "input.keywords",
    );
  }
}

async function nameTaken<T>(work: () => Promise<T>, name: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error))
      throw conflict(`A campaign named "${name}" already exists.`, "input.name");
    throw error;
  }
}

export async function createCampaign(prisma: Prisma, actor: Actor, input: CreateCampaignInput) {
  assertConfigure(actor);
  const name = validateCampaignName(input.name);
  const keywords = normalizeJoinKeywords(input.keywords ?? []);
  const disclosures = validateDisclosures(input.disclosures, input.purpose);
  return nameTaken(
    () =>
      prisma.$transaction(async (tx) => {
        const sender = await tx.sender.findFirst({
          where: { id: input.senderId, organizationId: actor.organizationId },
        });
        if (!sender) throw notFound("sender", input.senderId);
        await assertKeywordsFree(tx, sender.id, keywords);
        return tx.campaign.create({
          data: {
            organizationId: actor.organizationId,
            senderId: sender.id,
            name,
            purpose: input.purpose,
            keywords,
            doubleOptIn: input.doubleOptIn ?? false,
            disclosures: { create: { version: 1, ...disclosureRow(disclosures) } },
          },
        });
      }),
    name,
  );
}

async function findCampaignForChange(tx: Tx, actor: Actor, id: string) {
  const campaign = await tx.campaign.findFirst({
    where: { id, organizationId: actor.organizationId },
    include: { disclosures: { orderBy: { version: "desc" }, take: 1 } },
  });
  if (!campaign) throw notFound("campaign", id);
  return campaign;
}

export async function updateCampaign(prisma: Prisma, actor: Actor, input: UpdateCampaignInput) {
  assertConfigure(actor);
  const name = input.name == null ? undefined : validateCampaignName(input.name);
  const keywords = input.keywords == null ? undefined : normalizeJoinKeywords(input.keywords);
  return nameTaken(
    () =>
      prisma.$transaction(async (tx) => {
        const campaign = await findCampaignForChange(tx, actor, input.id);
        if (campaign.status === "ARCHIVED") {
          throw conflict("An ARCHIVED campaign cannot be changed.", "input.id");
        }
        const current = campaign.disclosures[0];
        const next = input.disclosures
          ? validateDisclosures(input.disclosures, campaign.purpose)
          : undefined;
        if (keywords) await assertKeywordsFree(tx, campaign.senderId, keywords, campaign.id);
        const newVersion =
          next && !sameDisclosures(next, current) ? current.version + 1 : undefined;
        const changed =
          newVersion !== undefined ||
          (name !== undefined && name !== campaign.name) ||
          (keywords !== undefined && keywords.join() !== campaign.keywords.join()) ||
          (input.doubleOptIn != null && input.doubleOptIn !== campaign.doubleOptIn);
        if (!changed) return campaign;
        return tx.campaign.update({
          where: { id: campaign.id },
          data: {
            name,
            keywords,
            doubleOptIn: input.doubleOptIn ?? undefined,
            updatedAt: new Date(),
            ...(newVersion && next
              ? { disclosures: { create: { version: newVersion, ...disclosureRow(next) } } }
              : {}),
          },
        });
      }),
    input.name ?? "",
  );
}

export async function setCampaignStatus(
  prisma: Prisma,
  actor: Actor,
  input: { id: string; status: CampaignStatus },
) {
  assertConfigure(actor);
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`select id from "Campaign" where id = ${input.id}::uuid for update`;
    const campaign = await findCampaignForChange(tx, actor, input.id);
    assertStatusChange(campaign.status, input.status);
    if (campaign.status === input.status) return campaign;
    if (input.status === "ACTIVE")
      await assertKeywordsFree(tx, campaign.senderId, campaign.keywords, campaign.id);
    return tx.campaign.update({
      where: { id: campaign.id },
      data: { status: input.status, updatedAt: new Date() },
    });
  });
}
