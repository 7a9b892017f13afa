// A subscriber's evidence file: everything optgraph holds about one number's consent, as one JSON
// document a company can hand its lawyers — the subscriber, each consent, every ledger event with
// its hash and the hash before it (each recomputed here), the inbound messages, and the full text
// of every disclosure version the consents and events refer to.
import type { Actor } from "../domain/api-key.ts";
import { eventHash } from "../domain/ledger.ts";
import { normalizePhone } from "../domain/phone.ts";
import type { Runtime } from "./runtime.ts";
import { visible } from "./visibility.ts";

export const EVIDENCE_FORMAT = "optgraph.subscriber-evidence.v1";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export type SubscriberLookup = { id: string } | { phone: string };

/** The evidence file of a subscriber the actor may see, or null when there is none. */
export async function subscriberEvidence(
  runtime: Runtime,
  actor: Actor,
  lookup: SubscriberLookup,
): Promise<Record<string, unknown> | null> {
  const { prisma } = runtime;
  const where =
    "id" in lookup
      ? { id: lookup.id }
      : { phone: normalizePhone(lookup.phone, runtime.config.defaultRegion, "phone") };
  const subscriber = await prisma.subscriber.findFirst({
    where: { AND: [where, visible.subscriber(actor)] },
  });
  if (!subscriber) return null;
  const partner = actor.campaignIds === null ? {} : { campaignId: { in: [...actor.campaignIds] } };
  const [organization, consents, events] = await Promise.all([
    prisma.organization.findUniqueOrThrow({
      where: { id: subscriber.organizationId },
      select: { id: true, name: true },
    }),
    prisma.consent.findMany({
      where: { subscriberId: subscriber.id, ...partner },
      include: { campaign: { select: { id: true, name: true, purpose: true, status: true } } },
      orderBy: { id: "asc" },
    }),
    prisma.consentEvent.findMany({
      where: { subscriberId: subscriber.id, ...visible.consentEvent(actor) },
      orderBy: { sequence: "asc" },
    }),
  ]);
  const keywordEventIds = events.flatMap((e) => (e.keywordEventId ? [e.keywordEventId] : []));
  const disclosureIds = [
    ...new Set(
      [...consents, ...events].flatMap((c) =>
        c.disclosureVersionId ? [c.disclosureVersionId] : [],
      ),
    ),
  ];
  const [messages, disclosures] = await Promise.all([
    prisma.keywordEvent.findMany({
      where: {
        AND: [
          visible.keywordEvent(actor),
          { OR: [{ from: subscriber.phone }, { id: { in: keywordEventIds } }] },
        ],
      },
      orderBy: { sequence: "asc" },
    }),
    prisma.disclosureVersion.findMany({
      where: { id: { in: disclosureIds } },
      orderBy: [{ campaignId: "asc" }, { version: "asc" }],
    }),
  ]);

  return {
    format: EVIDENCE_FORMAT,
    generatedAt: new Date().toISOString(),
    organization,
    subscriber: {
      id: subscriber.id,
      phone: subscriber.phone,
      timezone: subscriber.timezone,
      state: subscriber.state,
      locale: subscriber.locale,
      attributes: subscriber.attributes,
      createdAt: iso(subscriber.createdAt),
    },
    consents: consents.map((c) => ({
      id: c.id,
      campaign: c.campaign,
      status: c.status,
      method: c.method,
      disclosureVersionId: c.disclosureVersionId,
      lastSequence: c.lastSequence,
      expiresAt: iso(c.expiresAt),
      createdAt: iso(c.createdAt),
      updatedAt: iso(c.updatedAt),
    })),
    ledger: {
      hash: "hash = hex(sha256(prevHash ‖ '\\n' ‖ canonical event)), the canonical event being the RFC 8785 JSON of { v: 1, organizationId, sequence, subscriberId, campaignId, consentId, fromStatus, toStatus, method, occurredAt, recordedAt, evidence, disclosureVersionId, apiKeyId, keywordEventId }; prevHash is the hash of the organization's previous event (its other subscribers' events lie between).",
      events: events.map((e) => ({
        id: e.id,
        sequence: e.sequence,
        organizationId: e.organizationId,
        subscriberId: e.subscriberId,
        campaignId: e.campaignId,
        consentId: e.consentId,
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        method: e.method,
        occurredAt: iso(e.occurredAt),
        recordedAt: iso(e.recordedAt),
        evidence: e.evidence,
        disclosureVersionId: e.disclosureVersionId,
        apiKeyId: e.apiKeyId,
        keywordEventId: e.keywordEventId,
        prevHash: e.prevHash,
        hash: e.hash,
        hashVerified: eventHash(e.prevHash, e) === e.hash,
      })),
    },
    keywordMessages: messages.map((m) => ({
      id: m.id,
      sequence: m.sequence,
      from: m.from,
      to: m.to,
      body: m.body,
      providerMessageId: m.providerMessageId,
      keyword: m.keyword,
      intent: m.intent,
      needsReview: m.needsReview,
      reviewedAt: iso(m.reviewedAt),
      campaignIds: m.campaignIds,
      reply: m.reply,
      repliedAt: iso(m.repliedAt),
      receivedAt: iso(m.receivedAt),
      recordedAt: iso(m.recordedAt),
    })),
    disclosures: disclosures.map((d) => ({
      id: d.id,
      campaignId: d.campaignId,
      version: d.version,
      programName: d.programName,
      messageFrequency: d.messageFrequency,
      termsUrl: d.termsUrl,
      privacyUrl: d.privacyUrl,
      helpText: d.helpText,
      optInConfirmation: d.optInConfirmation,
      optOutConfirmation: d.optOutConfirmation,
      consentLanguage: d.consentLanguage,
      consentLanguageHash: d.consentLanguageHash,
      createdAt: iso(d.createdAt),
    })),
  };
}
