// What an actor may see: Prisma `where` fragments that confine every read to the actor's
// organization and, for PARTNER keys, to their campaigns. Anything outside reads as missing.
// Callers spread these into a `where` beside the id they look up (`{ id, ...visible.campaign(a) }`),
// so a fragment never restricts `id` at its top level (it would replace the caller's id): id
// restrictions go inside `AND`.
import type { Actor } from "../domain/api-key.ts";

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
};
