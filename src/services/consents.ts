// Consent changes asked for through the API: opt-in, the subscriber's confirmation, opt-out (campaign,
// sender or organization scope), and the expiry of unconfirmed double opt-ins. Each checks its
// input, states the change as a command for the decider (src/domain/decider.ts) and hands it to
// the ledger writer (ledger.ts), which decides, applies and records it in the organization's
// next group commit, or writes nothing.
import { canWriteConsent, type Actor } from "../domain/api-key.ts";
import type { ConsentMethod } from "../domain/consent.ts";
import type { CommandContext, ConsentCommand, OptOutScope } from "../domain/decider.ts";
import { badInput, notFound } from "../domain/errors.ts";
import { classifyMessage } from "../domain/keywords.ts";
import { pastOrNow } from "../domain/date-time.ts";
import { checkEvidence } from "../domain/evidence.ts";
import {
  checkMessageBody,
  checkProviderMessageId,
  messageEvidence,
} from "../domain/inbound-message.ts";
import { normalizePhone } from "../domain/phone.ts";
import { checkIdempotencyKey, requestHash } from "./idempotency.ts";
import { write, type InboundRecord, type LedgerOutcome, type StoredResult } from "./ledger.ts";
import type { Runtime } from "./runtime.ts";

export type { OptOutScope };

// ---------------------------------------------------------------------------------------------
// Commands

function commandContext(
  runtime: Runtime,
  actor: Actor,
  method: ConsentMethod,
  occurredAt: Date,
  now: Date,
  evidence: Record<string, unknown> | null,
): CommandContext {
  return {
    scope: actor.campaignIds,
    mayWrite: canWriteConsent(actor),
    method,
    occurredAt,
    recordedAt: now,
    pendingTtlMs: runtime.config.pendingTtlHours * 3_600_000,
    evidence,
  };
}

/** The rows a change wrote (or, for a retried key, wrote the first time); a refusal is thrown. */
async function rowsOf(runtime: Runtime, outcome: LedgerOutcome) {
  switch (outcome.kind) {
    case "REFUSED":
      throw outcome.error;
    case "WRITTEN":
      return {
        consents: outcome.consents,
        events: outcome.events,
        changed: outcome.changed,
        confirmationMessage: outcome.message,
      };
    case "REPLAYED":
      return replayed(runtime, outcome.stored);
    case "DUPLICATE":
      throw new Error("a consent command carried no inbound message");
  }
}

async function replayed(runtime: Runtime, result: StoredResult) {
  const [consents, events] = await Promise.all([
    runtime.prisma.consent.findMany({ where: { id: { in: result.consentIds } } }),
    runtime.prisma.consentEvent.findMany({
      where: { id: { in: result.eventIds } },
      orderBy: { sequence: "asc" },
    }),
  ]);
  const byId = new Map(consents.map((c) => [c.id, c]));
  return {
    consents: result.consentIds.map((id) => byId.get(id)!),
    events,
    changed: result.changed,
    confirmationMessage: result.confirmationMessage,
  };
}

// ---------------------------------------------------------------------------------------------
// Mutations

export interface OptInInput {
  phone: string;
  campaignId: string;
  method: ConsentMethod;
  occurredAt?: Date | null;
  evidence?: unknown;
  idempotencyKey?: string | null;
}

export async function optIn(runtime: Runtime, actor: Actor, input: OptInInput) {
  const now = new Date();
  const phone = normalizePhone(input.phone, runtime.config.defaultRegion, "input.phone");
  const occurredAt = pastOrNow(input.occurredAt, now, "input.occurredAt");
  const evidence = checkEvidence(input.evidence);
  const key = checkIdempotencyKey(input.idempotencyKey);
  const hash = requestHash("optIn", { ...input, phone, idempotencyKey: undefined });
  const outcome = await write(runtime, actor.organizationId, {
    phone,
    command: { kind: "OPT_IN", campaignId: input.campaignId },
    context: commandContext(runtime, actor, input.method, occurredAt, now, evidence),
    apiKeyId: actor.apiKeyId,
    idempotency: key ? { key, operation: "optIn", hash } : undefined,
  });
  const result = await rowsOf(runtime, outcome);
  return {
    consent: result.consents[0],
    event: result.events[0] ?? null,
    changed: result.changed,
    confirmationMessage: result.confirmationMessage,
  };
}

/** The subscriber's reply that confirms: the inbound message itself, kept as evidence. */
export interface ConfirmationMessage {
  from: string;
  body: string;
  providerMessageId: string;
  receivedAt?: Date | null;
}

export interface ConfirmOptInInput {
  phone: string;
  campaignId: string;
  message?: ConfirmationMessage | null;
  evidence?: unknown;
}

/**
 * A confirmation is the subscriber's reply: it carries the inbound message that says "Y", which is
 * recorded as a KeywordEvent the ledger event cites. Without one nothing is written.
 */
export async function confirmOptIn(runtime: Runtime, actor: Actor, input: ConfirmOptInInput) {
  const now = new Date();
  const phone = normalizePhone(input.phone, runtime.config.defaultRegion, "input.phone");
  const evidence = checkEvidence(input.evidence);
  const message = input.message;
  if (!message) {
    throw badInput(
      "input.message",
      "is required: a confirmation is the subscriber's reply (from, body, providerMessageId, receivedAt)",
    );
  }
  const from = normalizePhone(message.from, runtime.config.defaultRegion, "input.message.from");
  if (from !== phone) throw badInput("input.message.from", `is not the number ${phone}`);
  const body = checkMessageBody(message.body, "input.message.body");
  const providerMessageId = checkProviderMessageId(
    message.providerMessageId,
    "input.message.providerMessageId",
  );
  const receivedAt = pastOrNow(message.receivedAt, now, "input.message.receivedAt");
  const classification = classifyMessage(body);
  if (classification.intent !== "CONFIRM" || classification.needsReview) {
    throw badInput("input.message.body", `"${body}" is not a confirmation (Y or YES)`);
  }
  // the message reached the campaign's sender (an unknown campaign refuses below, writing nothing)
  const campaign = await runtime.prisma.campaign.findFirst({
    where: { id: input.campaignId, organizationId: actor.organizationId },
    select: { sender: { select: { id: true, address: true } } },
  });
  if (!campaign) throw notFound("campaign", input.campaignId);
  const record: InboundRecord = {
    senderId: campaign.sender.id,
    from,
    to: campaign.sender.address,
    body,
    providerMessageId,
    classification,
    receivedAt,
  };
  const outcome = await write(runtime, actor.organizationId, {
    phone,
    command: { kind: "CONFIRM", campaignId: input.campaignId },
    context: commandContext(runtime, actor, "KEYWORD", receivedAt, now, {
      ...evidence,
      message: messageEvidence(record),
    }),
    apiKeyId: actor.apiKeyId,
    message: record,
  });
  if (outcome.kind === "DUPLICATE") {
    // the provider delivered the same reply again: the answer the first delivery got
    const [consent, event] = await Promise.all([
      runtime.prisma.consent.findFirstOrThrow({
        where: {
          campaignId: input.campaignId,
          subscriber: { phone, organizationId: actor.organizationId },
        },
      }),
      runtime.prisma.consentEvent.findFirst({
        where: { keywordEventId: outcome.keywordEventId, campaignId: input.campaignId },
      }),
    ]);
    return { consent, event, changed: event !== null };
  }
  const result = await rowsOf(runtime, outcome);
  return { consent: result.consents[0], event: result.events[0] ?? null, changed: result.changed };
}

export interface OptOutInput {
  phone: string;
  campaignId?: string | null;
  scope?: OptOutScope | null;
  method: ConsentMethod;
  reason?: string | null;
  evidence?: unknown;
  idempotencyKey?: string | null;
}

export async function optOut(runtime: Runtime, actor: Actor, input: OptOutInput) {
  const now = new Date();
  const phone = normalizePhone(input.phone, runtime.config.defaultRegion, "input.phone");
  const scope = input.scope ?? "CAMPAIGN";
  if (scope !== "ORGANIZATION" && !input.campaignId) {
    throw badInput("input.campaignId", `is required for scope ${scope}`);
  }
  if (input.reason != null && input.reason.length > 500)
    throw badInput("input.reason", "must be at most 500 characters");
  const provided = checkEvidence(input.evidence);
  const evidence = input.reason ? { ...(provided ?? {}), reason: input.reason } : provided;
  const key = checkIdempotencyKey(input.idempotencyKey);
  const hash = requestHash("optOut", { ...input, phone, scope, idempotencyKey: undefined });
  const command: ConsentCommand = {
    kind: "OPT_OUT",
    scope,
    campaignId: scope === "ORGANIZATION" ? null : (input.campaignId ?? null),
  };
  const outcome = await write(runtime, actor.organizationId, {
    phone,
    command,
    context: commandContext(runtime, actor, input.method, now, now, evidence),
    apiKeyId: actor.apiKeyId,
    idempotency: key ? { key, operation: "optOut", hash } : undefined,
  });
  return rowsOf(runtime, outcome);
}

/**
 * Expires every PENDING consent whose confirmation window has passed (one EXPIRED event each).
 * Returns how many expired. Safe to run from several instances at once.
 */
export async function expirePendingConsents(runtime: Runtime, now = new Date()): Promise<number> {
  const due = await runtime.prisma.consent.findMany({
    where: { status: "PENDING", expiresAt: { lte: now } },
    select: { organizationId: true, campaignId: true, method: true, subscriberId: true },
    orderBy: { id: "asc" },
  });
  // nothing due: one statement (a relation in the select would read subscribers even for none)
  if (due.length === 0) return 0;
  const subscribers = await runtime.prisma.subscriber.findMany({
    where: { id: { in: [...new Set(due.map((consent) => consent.subscriberId))] } },
    select: { id: true, phone: true },
  });
  const phoneOf = new Map(subscribers.map((subscriber) => [subscriber.id, subscriber.phone]));
  const outcomes = await Promise.all(
    due.map((consent) =>
      write(runtime, consent.organizationId, {
        phone: phoneOf.get(consent.subscriberId)!,
        command: { kind: "EXPIRE", campaignId: consent.campaignId },
        context: {
          scope: null,
          mayWrite: true,
          method: consent.method,
          occurredAt: now,
          recordedAt: now,
          pendingTtlMs: 0,
          evidence: null,
        },
        apiKeyId: null,
      }),
    ),
  );
  return outcomes.filter((o) => o.kind === "WRITTEN" && o.changed).length;
}
