// The two logs live streams read: the consent ledger and the inbound-message (keyword event) log,
// each ordered by its per-organization sequence.
import type { Prisma } from "../db/client.ts";
import type { ConsentEvent, KeywordEvent } from "../generated/prisma/client.ts";
import type { LogSource } from "./streams.ts";

export interface ConsentEventFilter {
  campaignId?: string;
  subscriberId?: string;
  /** PARTNER keys: only these campaigns */
  campaignIds?: readonly string[] | null;
}

export interface KeywordEventFilter {
  campaignId?: string;
  campaignIds?: readonly string[] | null;
}

const range = (after: number, upTo: number | null) => ({
  gt: after,
  ...(upTo === null ? {} : { lte: upTo }),
});

export type ConsentEventRow = ConsentEvent;
export type KeywordEventRow = KeywordEvent;

export function consentEventSource(prisma: Prisma): LogSource<ConsentEventRow, ConsentEventFilter> {
  return {
    head: async (organizationId: string) =>
      (
        await prisma.organization.findUniqueOrThrow({
          where: { id: organizationId },
          select: { ledgerSequence: true },
        })
      ).ledgerSequence,
    read: (
      organizationId: string,
      after: number,
      upTo: number | null,
      limit: number,
      filter: ConsentEventFilter | null,
    ) =>
      prisma.consentEvent.findMany({
        where: {
          organizationId,
          sequence: range(after, upTo),
          AND: [
            filter?.campaignId ? { campaignId: filter.campaignId } : {},
            filter?.subscriberId ? { subscriberId: filter.subscriberId } : {},
            filter?.campaignIds ? { campaignId: { in: [...filter.campaignIds] } } : {},
          ],
        },
        orderBy: { sequence: "asc" },
        take: limit,
      }),
    matches: (
      row: { campaignId: string | null; subscriberId: string },
      filter: ConsentEventFilter,
    ) =>
      (!filter.campaignId || row.campaignId === filter.campaignId) &&
      (!filter.subscriberId || row.subscriberId === filter.subscriberId) &&
      (!filter.campaignIds ||
        (row.campaignId !== null && filter.campaignIds.includes(row.campaignId))),
    headIn: (heads) => heads.ledger,
    rowsIn: (committed) => committed.ledger,
  };
}

export function keywordEventSource(prisma: Prisma): LogSource<KeywordEventRow, KeywordEventFilter> {
  const overlaps = (ids: readonly string[], wanted: readonly string[]) =>
    ids.some((id) => wanted.includes(id));
  return {
    head: async (organizationId: string) =>
      (
        await prisma.organization.findUniqueOrThrow({
          where: { id: organizationId },
          select: { keywordSequence: true },
        })
      ).keywordSequence,
    read: (
      organizationId: string,
      after: number,
      upTo: number | null,
      limit: number,
      filter: KeywordEventFilter | null,
    ) =>
      prisma.keywordEvent.findMany({
        where: {
          organizationId,
          sequence: range(after, upTo),
          AND: [
            filter?.campaignId ? { campaignIds: { has: filter.campaignId } } : {},
            filter?.campaignIds ? { campaignIds: { hasSome: [...filter.campaignIds] } } : {},
          ],
        },
        orderBy: { sequence: "asc" },
        take: limit,
      }),
    matches: (row: { campaignIds: string[] }, filter: KeywordEventFilter) =>
      (!filter.campaignId || row.campaignIds.includes(filter.campaignId)) &&
      (!filter.campaignIds || overlaps(row.campaignIds, filter.campaignIds)),
    headIn: (heads) => heads.keywords,
    // a message's row changes after it commits (its reply, its review): always read
    rowsIn: () => undefined,
  };
}
