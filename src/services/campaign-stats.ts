// How many subscribers each campaign has in each consent state, for a page of campaigns in one
// query. "Opted out" counts numbers that had consented and took it back; "suppressed" counts
// numbers blocked without ever joining (the suppression records an opt-out of a wider scope
// writes for campaigns the number never joined).
import type { Runtime } from "./runtime.ts";

export interface CampaignStats {
  optedIn: number;
  pending: number;
  optedOut: number;
  suppressed: number;
  expired: number;
}

const empty = (): CampaignStats => ({
  optedIn: 0,
  pending: 0,
  optedOut: 0,
  suppressed: 0,
  expired: 0,
});

export async function campaignStats(
  runtime: Runtime,
  campaignIds: readonly string[],
): Promise<CampaignStats[]> {
  const groups = await runtime.prisma.consent.groupBy({
    by: ["campaignId", "status", "hadConsented"],
    where: { campaignId: { in: [...campaignIds] } },
    _count: { _all: true },
  });
  const stats = new Map(campaignIds.map((id) => [id, empty()]));
  for (const group of groups) {
    const counts = stats.get(group.campaignId)!;
    const n = group._count._all;
    if (group.status === "OPTED_IN") counts.optedIn += n;
    else if (group.status === "PENDING") counts.pending += n;
    else if (group.status === "EXPIRED") counts.expired += n;
    else if (group.hadConsented) counts.optedOut += n;
    else counts.suppressed += n;
  }
  return campaignIds.map((id) => stats.get(id)!);
}
