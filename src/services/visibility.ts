// What an actor may see, decided here and nowhere else, in two forms of one rule: Prisma `where`
// fragments (`visible`) that confine every read to the actor's organization and, for PARTNER keys,
// to their campaigns; and the same test over a row already read (`sees`), which every GraphQL object
// type applies to each object it resolves, whatever the path that reached it. Anything outside
// reads as missing.
// Callers spread the fragments into a `where` beside the id they look up
// (`{ id, ...visible.campaign(a) }`), so a fragment never restricts `id` at its top level (it would
// replace the caller's id): id restrictions go inside `AND`.
import { canConfigure, type Actor } from "../domain/api-key.ts";

const inCampaigns = (actor: Actor) =>
  actor.campaignIds === null ? {} : { campaignId: { in: [...actor.campaignIds] } };

export const visible = {
  organization: (actor: Actor) => ({ id: actor.organizationId }),
  apiKey: (actor: Actor) =>
    actor.role === "ADMIN"
      ? { organizationId: actor.organizationId }
      : { AND: [{ id: { in: [] as string[] } }] },
  sender: (actor: Actor) =>
    actor.campaignIds === null
      ? { organizationId: actor.organizationId }
      : {
          organizationId: actor.organizationId,
          campaigns: { some: { id: { in: [...actor.campaignIds] } } },
        },
  campaign: (actor: Actor) =>
    actor.campaignIds === null
      ? { organizationId: actor.organizationId }
      : {
          organizationId: actor.organizationId,
          AND: [{ id: { in: [...actor.campaignIds] } }],
        },
  subscriber: (actor: Actor) =>
    actor.campaignIds === null
      ? { organizationId: actor.organizationId }
      : { organizationId: actor.organizationId, consents: { some: inCampaigns(actor) } },
  consent: (actor: Actor) => ({ organizationId: actor.organizationId, ...inCampaigns(actor) }),
  consentEvent: (actor: Actor) => ({ organizationId: actor.organizationId, ...inCampaigns(actor) }),
  // a PARTNER sees the messages of its campaigns, and those it submitted itself
  keywordEvent: (actor: Actor) =>
    actor.campaignIds === null
      ? { organizationId: actor.organizationId }
      : {
          organizationId: actor.organizationId,
          OR: [{ campaignIds: { hasSome: [...actor.campaignIds] } }, { apiKeyId: actor.apiKeyId }],
        },
  importJob: (actor: Actor) =>
    canConfigure(actor)
      ? { organizationId: actor.organizationId }
      : { AND: [{ id: { in: [] as string[] } }] },
};

const mayTouch = (actor: Actor, campaignId: string | null) =>
  actor.campaignIds === null || (campaignId !== null && actor.campaignIds.includes(campaignId));

/**
 * `visible` over rows already read. Senders and subscribers are tested on their organization only:
 * a PARTNER reaches them through its own campaigns and consents, or through fields that filter with
 * `visible` (their PARTNER rule needs other rows).
 */
export const sees = {
  organization: (actor: Actor, row: { id: string }) => row.id === actor.organizationId,
  apiKey: (actor: Actor, row: { organizationId: string }) =>
    actor.role === "ADMIN" && row.organizationId === actor.organizationId,
  sender: (actor: Actor, row: { organizationId: string }) =>
    row.organizationId === actor.organizationId,
  campaign: (actor: Actor, row: { id: string; organizationId: string }) =>
    row.organizationId === actor.organizationId && mayTouch(actor, row.id),
  disclosure: (actor: Actor, row: { campaignId: string }) => mayTouch(actor, row.campaignId),
  subscriber: (actor: Actor, row: { organizationId: string }) =>
    row.organizationId === actor.organizationId,
  consent: (actor: Actor, row: { organizationId: string; campaignId: string }) =>
    row.organizationId === actor.organizationId && mayTouch(actor, row.campaignId),
  consentEvent: (actor: Actor, row: { organizationId: string; campaignId: string | null }) =>
    row.organizationId === actor.organizationId && mayTouch(actor, row.campaignId),
  keywordEvent: (
    actor: Actor,
    row: { organizationId: string; campaignIds: string[]; apiKeyId: string | null },
  ) =>
    row.organizationId === actor.organizationId &&
    (actor.campaignIds === null ||
      row.apiKeyId === actor.apiKeyId ||
      row.campaignIds.some((id) => mayTouch(actor, id))),
  importJob: (actor: Actor, row: { organizationId: string }) =>
    canConfigure(actor) && row.organizationId === actor.organizationId,
};
