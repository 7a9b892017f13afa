// What a subscription may watch: its filter arguments checked against the caller's organization
// and campaigns (an unknown or foreign campaign or subscriber reads as NOT_FOUND, as everywhere).
import type { Actor } from "../domain/api-key.ts";
import { notFound } from "../domain/errors.ts";
import type { ConsentEventFilter, KeywordEventFilter } from "../events/sources.ts";
import type { Runtime } from "./runtime.ts";
import { visible } from "./visibility.ts";

interface Caller {
  actor: Actor;
  runtime: Runtime;
}

async function visibleCampaign(caller: Caller, id: string | undefined) {
  if (id === undefined) return undefined;
  const found = await caller.runtime.prisma.campaign.count({
    where: { AND: [{ id }, visible.campaign(caller.actor)] },
  });
  if (!found) throw notFound("campaign", id);
  return id;
}

export async function consentStreamFilter(
  caller: Caller,
  ids: { campaignId?: string; subscriberId?: string },
): Promise<ConsentEventFilter> {
  const campaignId = await visibleCampaign(caller, ids.campaignId);
  const { subscriberId } = ids;
  if (subscriberId !== undefined) {
    const found = await caller.runtime.prisma.subscriber.count({
      where: { AND: [{ id: subscriberId }, visible.subscriber(caller.actor)] },
    });
    if (!found) throw notFound("subscriber", subscriberId);
  }
  return { campaignId, subscriberId, campaignIds: caller.actor.campaignIds };
}

export async function keywordStreamFilter(
  caller: Caller,
  ids: { campaignId?: string },
): Promise<KeywordEventFilter> {
  return {
    campaignId: await visibleCampaign(caller, ids.campaignId),
    campaignIds: caller.actor.campaignIds,
  };
}
