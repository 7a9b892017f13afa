// Inbound messages: resolve the organization and campaigns from the sender that received the
// message, classify it, apply the consent change with method KEYWORD and the message as evidence,
// and record a KeywordEvent linking the events it caused and the reply it produced — all in one
// transaction. A provider message id seen before returns the first result and writes nothing.
import type { Actor } from "../domain/api-key.ts";
import { badInput, notFound } from "../domain/errors.ts";
import { classifyMessage, keywordKey, type Classification } from "../domain/keywords.ts";
import { confirmationPrompt, helpReply, optInConfirmation } from "../domain/messages.ts";
import { normalizePhone } from "../domain/phone.ts";
import {
  confirmWithin,
  optInWithin,
  optOutWithin,
  withLedger,
  type ChangeContext,
} from "./consents.ts";
import type { LedgerHead } from "./ledger.ts";
import type { Runtime } from "./runtime.ts";
import type { Tx } from "./transaction.ts";

export interface InboundMessage {
  from: string;
  to: string;
  body: string;
  providerMessageId?: string | null;
  receivedAt?: Date | null;
}

const MAX_BODY = 1600;

/** A sender address as stored: short code digits, or E.164. */
export function normalizeSenderLookup(to: string, defaultRegion: string): string {
  const raw = to.trim();
  if (/^\d{3,8}$/.test(raw)) return raw;
  return normalizePhone(raw, defaultRegion, "input.to");
}

function checkMessage(runtime: Runtime, input: InboundMessage) {
  if (input.body.length > MAX_BODY)
    throw badInput("input.body", `must be at most ${MAX_BODY} characters`);
  if (
    input.providerMessageId != null &&
    (input.providerMessageId.length < 1 || input.providerMessageId.length > 200)
  ) {
    throw badInput("input.providerMessageId", "must be 1 to 200 characters");
  }
  return {
    from: normalizePhone(input.from, runtime.config.defaultRegion, "input.from"),
    to: normalizeSenderLookup(input.to, runtime.config.defaultRegion),
  };
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
 * organization the webhook was resolved to.
 */
export async function receiveInboundMessage(
  runtime: Runtime,
  actor: Actor | null,
  input: InboundMessage,
  receiver: string | undefined = actor?.organizationId,
) {
  const { from, to } = checkMessage(runtime, input);
  if (receiver === undefined) throw notFound("sender", to, "address");
  const sender = await findSenderByAddress(runtime, to, receiver);
  const organizationId = sender.organizationId;
  const now = new Date();
  const receivedAt = input.receivedAt ?? now;
  if (receivedAt.getTime() > now.getTime() + 5 * 60_000) {
    throw badInput("input.receivedAt", `${receivedAt.toISOString()} is in the future`);
  }

  return withLedger(runtime, organizationId, async (tx, head) => {
    if (input.providerMessageId) {
      const seen = await tx.keywordEvent.findUnique({
        where: {
          organizationId_providerMessageId: {
            organizationId,
            providerMessageId: input.providerMessageId,
          },
        },
      });
      if (seen) return { keywordEvent: seen, reply: seen.reply, duplicate: true };
    }
    const campaigns = await tx.campaign.findMany({
      where: { senderId: sender.id, status: { not: "ARCHIVED" } },
      include: { disclosures: { orderBy: { version: "desc" }, take: 1 } },
      orderBy: { id: "asc" },
    });
    const classification = classifyMessage(
      input.body,
      campaigns.flatMap((c) => c.keywords),
    );
    const keywordSequence = await nextKeywordSequence(tx, organizationId);
    const keywordEvent = await tx.keywordEvent.create({
      data: {
        organizationId,
        sequence: keywordSequence,
        senderId: sender.id,
        from,
        to,
        body: input.body,
        providerMessageId: input.providerMessageId ?? null,
        keyword: classification.keyword,
        intent: classification.intent,
        needsReview: classification.needsReview,
        receivedAt,
        recordedAt: now,
      },
    });
    const ctx: ChangeContext = {
      organizationId,
      method: "KEYWORD",
      occurredAt: receivedAt,
      recordedAt: now,
      apiKeyId: actor?.apiKeyId ?? null,
      keywordEventId: keywordEvent.id,
      visibleCampaignIds: null,
      pendingTtlMs: runtime.config.pendingTtlHours * 3_600_000,
    };
    const evidence = {
      message: {
        from,
        to,
        body: input.body,
        providerMessageId: input.providerMessageId ?? null,
        receivedAt: receivedAt.toISOString(),
      },
      keyword: classification.keyword,
      intent: classification.intent,
      needsReview: classification.needsReview,
    };
    const outcome = await applyIntent(tx, head, ctx, {
      from,
      senderId: sender.id,
      campaigns,
      classification,
      evidence,
    });
    const updated = await tx.keywordEvent.update({
      where: { id: keywordEvent.id },
      data: {
        campaignIds: outcome.campaignIds,
        reply: outcome.reply,
        repliedAt: outcome.reply ? new Date() : null,
      },
    });
    return { keywordEvent: updated, reply: outcome.reply, duplicate: false };
  });
}

async function nextKeywordSequence(tx: Tx, organizationId: string): Promise<number> {
  // The organization row is already locked by the ledger lock, so this increment is serialized.
  const organization = await tx.organization.update({
    where: { id: organizationId },
    data: { keywordSequence: { increment: 1 } },
    select: { keywordSequence: true },
  });
  return organization.keywordSequence;
}

type SenderCampaign = Awaited<ReturnType<Tx["campaign"]["findMany"]>>[number] & {
  disclosures: {
    programName: string;
    messageFrequency: string;
    helpText: string;
    optInConfirmation: string;
    optOutConfirmation: string;
  }[];
};

interface IntentInput {
  from: string;
  senderId: string;
  campaigns: SenderCampaign[];
  classification: Classification;
  evidence: Record<string, unknown>;
}

interface IntentOutcome {
  campaignIds: string[];
  reply: string | null;
}

async function applyIntent(
  tx: Tx,
  head: LedgerHead,
  ctx: ChangeContext,
  input: IntentInput,
): Promise<IntentOutcome> {
  const { from, campaigns, classification, evidence } = input;
  const consentsOnSender = async () => {
    const subscriber = await tx.subscriber.findUnique({
      where: { organizationId_phone: { organizationId: ctx.organizationId, phone: from } },
      include: { consents: { where: { campaignId: { in: campaigns.map((c) => c.id) } } } },
    });
    return subscriber?.consents ?? [];
  };

  switch (classification.intent) {
    case "OPT_OUT":
    case "OPT_OUT_ALL": {
      const result = await optOutWithin(tx, head, ctx, {
        phone: from,
        scope: classification.intent === "OPT_OUT_ALL" ? "ORGANIZATION" : "SENDER",
        campaignId: null,
        senderId: input.senderId,
        evidence,
      });
      return {
        campaignIds: result.events.map((e) => e.campaignId!).filter(Boolean),
        reply: result.confirmationMessage,
      };
    }
    case "HELP": {
      const consents = await consentsOnSender();
      const campaign =
        campaigns.find((c) =>
          consents.some((s) => s.campaignId === c.id && s.status === "OPTED_IN"),
        ) ??
        campaigns.find((c) => c.status === "ACTIVE") ??
        campaigns[0];
      return {
        campaignIds: campaign ? [campaign.id] : [],
        reply: campaign ? helpReply(campaign.disclosures[0]) : null,
      };
    }
    case "CONFIRM": {
      const pending = (await consentsOnSender()).filter(
        (c) =>
          c.status === "PENDING" &&
          (!c.expiresAt || c.expiresAt.getTime() > ctx.recordedAt.getTime()),
      );
      if (pending.length > 0) {
        for (const consent of pending) {
          await confirmWithin(tx, head, ctx, {
            phone: from,
            campaignId: consent.campaignId,
            evidence,
          });
        }
        const first = campaigns.find((c) => c.id === pending[0].campaignId)!;
        return {
          campaignIds: pending.map((c) => c.campaignId),
          reply: optInConfirmation(first.disclosures[0]),
        };
      }
      return resubscribe(tx, head, ctx, input, await consentsOnSender());
    }
    case "OPT_IN": {
      // the classification's keyword is the accent-free form; campaigns store the typed one
      const joined = campaigns.find((c) =>
        c.keywords.some((k) => keywordKey(k) === classification.keyword),
      );
      if (joined) {
        const result = await optInWithin(tx, head, ctx, {
          phone: from,
          campaignId: joined.id,
          source: "JOIN_KEYWORD",
          evidence,
        });
        return {
          campaignIds: [joined.id],
          reply: result.changed ? result.confirmationMessage : null,
        };
      }
      return resubscribe(tx, head, ctx, input, await consentsOnSender());
    }
    case "UNKNOWN":
      return { campaignIds: [], reply: null };
  }
}

/**
 * START, UNSTOP, or YES without a pending request: re-opt in to the sender's campaigns this number
 * opted out of. A number that never opted out of anything here joins the sender's only campaign,
 * when it has exactly one; otherwise nothing changes.
 */
async function resubscribe(
  tx: Tx,
  head: LedgerHead,
  ctx: ChangeContext,
  input: IntentInput,
  consents: { campaignId: string; status: string }[],
): Promise<IntentOutcome> {
  const optedOut = input.campaigns.filter((c) =>
    consents.some((s) => s.campaignId === c.id && s.status === "OPTED_OUT"),
  );
  const targets =
    optedOut.length > 0
      ? optedOut
      : input.campaigns.length === 1 && consents.length === 0
        ? input.campaigns
        : [];
  const source = optedOut.length > 0 ? "RESUBSCRIBE_KEYWORD" : "JOIN_KEYWORD";
  let reply: string | null = null;
  const changed: string[] = [];
  for (const campaign of targets) {
    const result = await optInWithin(tx, head, ctx, {
      phone: input.from,
      campaignId: campaign.id,
      source,
      evidence: input.evidence,
    });
    if (result.changed) {
      changed.push(campaign.id);
      reply ??=
        result.consent?.status === "PENDING"
          ? confirmationPrompt(campaign.disclosures[0])
          : optInConfirmation(campaign.disclosures[0]);
    }
  }
  return { campaignIds: changed, reply };
}

/** Marks a flagged message as looked at; marking it again changes nothing. */
export async function markReviewed(runtime: Runtime, actor: Actor, id: string) {
  const event = await runtime.prisma.keywordEvent.findFirst({
    where: { id, organizationId: actor.organizationId },
  });
  if (!event) throw notFound("keyword event", id);
  if (event.reviewedAt) return event;
  return runtime.prisma.keywordEvent.update({ where: { id }, data: { reviewedAt: new Date() } });
}
