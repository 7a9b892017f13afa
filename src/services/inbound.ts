// Inbound messages: resolve the organization from the sender that received the message, classify
// it, and hand it to the ledger writer as a KEYWORD command with the message as evidence: the
// decider (src/domain/decider.ts) turns it into consent changes and a reply, and the writer records
// the KeywordEvent, the events it caused and the reply together. A provider message id seen before
// with the same message returns the first result and writes nothing; with another message it is a
// CONFLICT. The reply goes out in the subscriber's language when the campaign has its texts in it
// (the stored locale, else the keyword's), and a subscriber with none learns the keyword's.
import type { Actor } from "../domain/api-key.ts";
import { canWriteConsent } from "../domain/api-key.ts";
import { notFound } from "../domain/errors.ts";
import {
  checkMessageBody,
  checkProviderMessageId,
  messageEvidence,
} from "../domain/inbound-message.ts";
import { pastOrNow } from "../domain/date-time.ts";
import { classifyMessage, type Classification } from "../domain/keywords.ts";
import { reviewDueAt } from "../domain/business-days.ts";
import { normalizePhone } from "../domain/phone.ts";
import type { Sender } from "../generated/prisma/client.ts";
import { write, type InboundRecord } from "./ledger.ts";
import type { Runtime } from "./runtime.ts";

export interface InboundMessage {
  from: string;
  to: string;
  body: string;
  providerMessageId?: string | null;
  receivedAt?: Date | null;
}

/** A sender address as stored: short code digits, or E.164. */
export function normalizeSenderLookup(to: string, defaultRegion: string): string {
  const raw = to.trim();
  if (/^\d{3,8}$/.test(raw)) return raw;
  return normalizePhone(raw, defaultRegion, "input.to");
}

/** The sender that received a message: the receiving organization's sender with that address. */
async function findSenderByAddress(runtime: Runtime, address: string, organizationId: string) {
  const sender = await runtime.prisma.sender.findUnique({
    where: { organizationId_address: { organizationId, address } },
  });
  if (!sender) throw notFound("sender", address, "address");
  return sender;
}

/**
 * Every organization's sender with this address (several organizations may register one), each
 * with the Twilio auth token its webhooks are signed with: organizations with a token of their
 * own first, then those on TWILIO_AUTH_TOKEN, each in the order they registered the address. A
 * webhook belongs to the first whose token validates its signature.
 */
export async function sendersWithAddress(runtime: Runtime, address: string) {
  const senders = await runtime.prisma.sender.findMany({
    where: { address },
    include: { organization: { select: { twilioAuthToken: true } } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const candidates = senders.map(({ organization, ...sender }) => ({
    sender,
    ownToken: organization.twilioAuthToken !== null,
    token: organization.twilioAuthToken ?? runtime.config.twilioAuthToken ?? null,
  }));
  return [...candidates.filter((c) => c.ownToken), ...candidates.filter((c) => !c.ownToken)];
}

/**
 * Processes an inbound message for the caller's organization, or (actor null: a webhook) for the
 * sender the webhook was resolved to.
 */
export async function receiveInboundMessage(
  runtime: Runtime,
  actor: Actor | null,
  input: InboundMessage,
  receiver: string | Sender | undefined = actor?.organizationId,
) {
  const now = new Date();
  const body = checkMessageBody(input.body, "input.body");
  const providerMessageId =
    input.providerMessageId == null
      ? null
      : checkProviderMessageId(input.providerMessageId, "input.providerMessageId");
  const from = normalizePhone(input.from, runtime.config.defaultRegion, "input.from");
  const to = normalizeSenderLookup(input.to, runtime.config.defaultRegion);
  const receivedAt = pastOrNow(input.receivedAt, now, "input.receivedAt");
  if (receiver === undefined) throw notFound("sender", to, "address");
  const sender =
    typeof receiver === "string" ? await findSenderByAddress(runtime, to, receiver) : receiver;
  const organizationId = sender.organizationId;
  const [campaigns, subscriber] = await Promise.all([
    runtime.prisma.campaign.findMany({
      where: { senderId: sender.id, status: { not: "ARCHIVED" } },
      select: { keywords: true },
    }),
    runtime.prisma.subscriber.findUnique({
      where: { organizationId_phone: { organizationId, phone: from } },
      select: { locale: true },
    }),
  ]);
  const classification = classifyMessage(
    body,
    campaigns.flatMap((c) => c.keywords),
  );
  // the reply's language: the subscriber's stored one, else the one their keyword tells
  const locale = subscriber?.locale ?? classification.locale;
  const record: InboundRecord = {
    senderId: sender.id,
    from,
    to,
    body,
    providerMessageId,
    classification,
    receivedAt,
    reviewDueAt:
      classification.review === "NONE"
        ? null
        : reviewDueAt(receivedAt, runtime.config.reviewMarginBusinessDays),
  };
  const outcome = await write(runtime, organizationId, {
    phone: from,
    command: { kind: "KEYWORD", senderId: sender.id, classification, locale },
    context: {
      // a provider's webhook acts for the subscriber; an API key within its own scope
      scope: actor?.campaignIds ?? null,
      mayWrite: actor ? canWriteConsent(actor) : true,
      method: "KEYWORD",
      occurredAt: receivedAt,
      recordedAt: now,
      pendingTtlMs: runtime.config.pendingTtlHours * 3_600_000,
      evidence: {
        message: messageEvidence(record),
        keyword: classification.keyword,
        intent: classification.intent,
        needsReview: classification.needsReview,
      },
    },
    apiKeyId: actor?.apiKeyId ?? null,
    message: record,
  });
  switch (outcome.kind) {
    case "REFUSED":
      throw outcome.error;
    case "DUPLICATE": {
      const seen = await runtime.prisma.keywordEvent.findUniqueOrThrow({
        where: { id: outcome.keywordEventId },
      });
      return { keywordEvent: seen, reply: seen.reply, duplicate: true };
    }
    case "WRITTEN":
      await learnLocale(runtime, organizationId, from, subscriber?.locale ?? null, classification);
      return { keywordEvent: outcome.keywordEvent!, reply: outcome.message, duplicate: false };
    case "REPLAYED":
      throw new Error("an inbound message carried an idempotency key");
  }
}

/**
 * A subscriber with no stored locale takes the language of the keyword they texted (BAJA: "es"),
 * so later replies go out in it. Never overwrites a stored locale (set by updateSubscriber or an
 * import, or learned before); a number with no subscriber yet (a HELP from a stranger) has none
 * to learn. A preference, not a consent: written after the ledger commit, only where still unset.
 */
async function learnLocale(
  runtime: Runtime,
  organizationId: string,
  phone: string,
  stored: string | null,
  classification: Classification,
) {
  if (stored !== null || classification.locale === null) return;
  await runtime.prisma.subscriber.updateMany({
    where: { organizationId, phone, locale: null },
    data: { locale: classification.locale },
  });
}
