// Consent changes: opt-in, confirmation, opt-out (campaign, sender or organization scope) and the
// expiry of unconfirmed double opt-ins. Each runs in one transaction that locks the organization's
// ledger head, reads the current consents, applies the state machine, and writes every changed
// consent together with exactly one ledger event for it, or writes nothing.
import { canWriteConsent, mayTouchCampaign, type Actor } from "../domain/api-key.ts";
import {
  nextStatus,
  optInIsConfirmed,
  type ConsentMethod,
  type ConsentStatus,
  type OptInSource,
} from "../domain/consent.ts";
import { badInput, conflict, forbidden, notFound } from "../domain/errors.ts";
import {
  confirmationPrompt,
  optInConfirmation,
  optOutConfirmation,
  organizationOptOutConfirmation,
} from "../domain/messages.ts";
import { checkEvidence } from "../domain/evidence.ts";
import { normalizePhone } from "../domain/phone.ts";
import { checkIdempotencyKey, remember, replay, requestHash } from "./idempotency.ts";
import { inTurn } from "./ledger-gate.ts";
import type { SqlQuery } from "../db/client.ts";
import {
  appendEvents,
  lockLedger,
  lockLedgerSql,
  type EventDraft,
  type LedgerHead,
} from "./ledger.ts";
import type { Runtime } from "./runtime.ts";
import type { Tx } from "./transaction.ts";

const FUTURE_TOLERANCE_MS = 5 * 60_000;
const TRANSACTION = { maxWait: 10_000, timeout: 20_000 };

export type OptOutScope = "CAMPAIGN" | "SENDER" | "ORGANIZATION";

/** Who acts and how, for the events a change writes. */
export interface ChangeContext {
  organizationId: string;
  method: ConsentMethod;
  occurredAt: Date;
  recordedAt: Date;
  apiKeyId: string | null;
  keywordEventId: string | null;
  /** campaigns the actor may see in results (PARTNER keys); null for all */
  visibleCampaignIds: readonly string[] | null;
  /** how long a PENDING consent waits for its "Y" */
  pendingTtlMs: number;
}

// ---------------------------------------------------------------------------------------------
// Input checks

function checkOccurredAt(value: Date | null | undefined, now: Date): Date {
  if (!value) return now;
  if (Number.isNaN(value.getTime())) throw badInput("input.occurredAt", "is not a date");
  if (value.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw badInput("input.occurredAt", `${value.toISOString()} is in the future`);
  }
  return value;
}

function assertMayWrite(actor: Actor) {
  if (!canWriteConsent(actor)) throw forbidden("VIEWER keys may not change consents.");
}

// ---------------------------------------------------------------------------------------------
// Steps that run inside a transaction holding the ledger lock (shared with inbound messages)

async function findCampaign(tx: Tx, ctx: ChangeContext, campaignId: string) {
  const campaign = await tx.campaign.findFirst({
    where: { id: campaignId, organizationId: ctx.organizationId },
    include: { disclosures: { orderBy: { version: "desc" }, take: 1 } },
  });
  if (!campaign || (ctx.visibleCampaignIds && !ctx.visibleCampaignIds.includes(campaign.id))) {
    throw notFound("campaign", campaignId);
  }
  return { ...campaign, disclosure: campaign.disclosures[0] };
}

async function upsertSubscriber(tx: Tx, organizationId: string, phone: string) {
  return tx.subscriber.upsert({
    where: { organizationId_phone: { organizationId, phone } },
    create: { organizationId, phone },
    update: {},
  });
}

interface Change {
  campaignId: string;
  consentId: string | null;
  from: ConsentStatus | null;
  to: ConsentStatus;
  disclosureVersionId: string | null;
  expiresAt: Date | null;
  evidence: unknown;
}

/** Writes each change's consent and its one ledger event, in order; returns both. */
async function applyChanges(
  tx: Tx,
  head: LedgerHead,
  ctx: ChangeContext,
  subscriberId: string,
  changes: Change[],
) {
  const consents = [];
  const drafts: EventDraft[] = [];
  for (const [i, change] of changes.entries()) {
    const data = {
      status: change.to,
      method: ctx.method,
      lastSequence: head.sequence + i + 1,
      expiresAt: change.expiresAt,
      updatedAt: ctx.recordedAt,
      ...(change.disclosureVersionId ? { disclosureVersionId: change.disclosureVersionId } : {}),
    };
    const consent = await tx.consent.upsert({
      where: { subscriberId_campaignId: { subscriberId, campaignId: change.campaignId } },
      create: {
        organizationId: ctx.organizationId,
        subscriberId,
        campaignId: change.campaignId,
        ...data,
      },
      update: data,
    });
    consents.push(consent);
    drafts.push({
      subscriberId,
      campaignId: change.campaignId,
      consentId: consent.id,
      fromStatus: change.from,
      toStatus: change.to,
      method: ctx.method,
      occurredAt: ctx.occurredAt,
      evidence: change.evidence,
      disclosureVersionId: change.disclosureVersionId,
      apiKeyId: ctx.apiKeyId,
      keywordEventId: ctx.keywordEventId,
    });
  }
  const events = await appendEvents(tx, head, drafts, ctx.recordedAt);
  return { consents, events };
}

export interface OptInRequest {
  phone: string;
  campaignId: string;
  source: OptInSource;
  evidence: Record<string, unknown> | null;
}

export async function optInWithin(
  tx: Tx,
  head: LedgerHead,
  ctx: ChangeContext,
  request: OptInRequest,
) {
  const campaign = await findCampaign(tx, ctx, request.campaignId);
  if (campaign.status === "ARCHIVED") {
    throw conflict(
      `Campaign "${campaign.name}" is archived and takes no opt-ins.`,
      "input.campaignId",
    );
  }
  const subscriber = await upsertSubscriber(tx, ctx.organizationId, request.phone);
  const current = await tx.consent.findUnique({
    where: { subscriberId_campaignId: { subscriberId: subscriber.id, campaignId: campaign.id } },
  });
  // A PENDING or EXPIRED consent still stands on the last settled answer before it: when that was
  // an opt-out, the number is being re-added and only the subscriber's "Y" may bring it back, so
  // a retried (or later) integration call must not confirm it.
  let basis = current?.status ?? null;
  if (current && (basis === "PENDING" || basis === "EXPIRED")) {
    const settled = await tx.consentEvent.findFirst({
      // (subscriberId, sequence) is indexed: this reads the subscriber's own events only
      where: {
        subscriberId: current.subscriberId,
        campaignId: current.campaignId,
        toStatus: { in: ["OPTED_IN", "OPTED_OUT"] },
      },
      orderBy: { sequence: "desc" },
      select: { toStatus: true },
    });
    if (settled?.toStatus === "OPTED_OUT") basis = "OPTED_OUT";
  }
  let to = nextStatus(current?.status ?? null, {
    kind: "OPT_IN",
    confirmed: optInIsConfirmed(request.source, campaign.doubleOptIn, basis),
  });
  if (to && current?.status === "OPTED_OUT") {
    // An opt-in that happened before the opt-out it would undo is stale: the opt-out stands.
    const last = await tx.consentEvent.findUnique({
      where: {
        organizationId_sequence: {
          organizationId: ctx.organizationId,
          sequence: current.lastSequence,
        },
      },
      select: { occurredAt: true },
    });
    if (last && ctx.occurredAt.getTime() < last.occurredAt.getTime()) to = null;
  }
  if (!to) {
    const consent = current ?? null;
    return { consent, event: null, changed: false, confirmationMessage: null, campaign };
  }
  const disclosure = campaign.disclosure;
  const { consents, events } = await applyChanges(tx, head, ctx, subscriber.id, [
    {
      campaignId: campaign.id,
      consentId: current?.id ?? null,
      from: current?.status ?? null,
      to,
      disclosureVersionId: disclosure.id,
      expiresAt: to === "PENDING" ? new Date(ctx.recordedAt.getTime() + ctx.pendingTtlMs) : null,
      evidence: {
        ...(request.evidence ?? {}),
        consentLanguage: { version: disclosure.version, sha256: disclosure.consentLanguageHash },
      },
    },
  ]);
  return {
    consent: consents[0],
    event: events[0],
    changed: true,
    confirmationMessage:
      to === "PENDING" ? confirmationPrompt(disclosure) : optInConfirmation(disclosure),
    campaign,
  };
}

export async function confirmWithin(
  tx: Tx,
  head: LedgerHead,
  ctx: ChangeContext,
  request: { phone: string; campaignId: string; evidence: Record<string, unknown> | null },
) {
  const { phone, campaignId } = request;
  const campaign = await findCampaign(tx, ctx, campaignId);
  const subscriber = await tx.subscriber.findUnique({
    where: { organizationId_phone: { organizationId: ctx.organizationId, phone } },
  });
  const current = subscriber
    ? await tx.consent.findUnique({
        where: { subscriberId_campaignId: { subscriberId: subscriber.id, campaignId } },
      })
    : null;
  if (
    current?.status === "PENDING" &&
    current.expiresAt &&
    current.expiresAt.getTime() <= ctx.recordedAt.getTime()
  ) {
    throw conflict(
      `The opt-in request expired at ${current.expiresAt.toISOString()}; the number must opt in again.`,
      "input.phone",
    );
  }
  const to = nextStatus(current?.status ?? null, { kind: "CONFIRM" });
  if (!to || !subscriber || !current)
    return { consent: current, event: null, changed: false, campaign };
  const { consents, events } = await applyChanges(tx, head, ctx, subscriber.id, [
    {
      campaignId,
      consentId: current.id,
      from: current.status,
      to,
      disclosureVersionId: current.disclosureVersionId,
      expiresAt: null,
      evidence: { ...(request.evidence ?? {}), confirms: { sequence: current.lastSequence } },
    },
  ]);
  return { consent: consents[0], event: events[0], changed: true, campaign };
}

export interface OptOutRequest {
  phone: string;
  scope: OptOutScope;
  /** required for CAMPAIGN and SENDER scope */
  campaignId: string | null;
  /** for SENDER scope without a campaign (an inbound STOP names the sender it reached) */
  senderId?: string | null;
  evidence: Record<string, unknown> | null;
}

export async function optOutWithin(
  tx: Tx,
  head: LedgerHead,
  ctx: ChangeContext,
  request: OptOutRequest,
) {
  const named = request.campaignId ? await findCampaign(tx, ctx, request.campaignId) : null;
  const senderId = request.senderId ?? named?.senderId ?? null;
  const inScope =
    request.scope === "CAMPAIGN"
      ? [named!]
      : await tx.campaign.findMany({
          where: {
            organizationId: ctx.organizationId,
            ...(request.scope === "SENDER" ? { senderId: senderId ?? undefined } : {}),
          },
          include: { disclosures: { orderBy: { version: "desc" }, take: 1 } },
          orderBy: { id: "asc" },
        });
  const subscriber = await upsertSubscriber(tx, ctx.organizationId, request.phone);
  const existing = await tx.consent.findMany({
    where: { subscriberId: subscriber.id, campaignId: { in: inScope.map((c) => c.id) } },
  });
  const changes: Change[] = [];
  const changedCampaigns = [];
  for (const campaign of inScope) {
    const current = existing.find((c) => c.campaignId === campaign.id) ?? null;
    // A campaign that never had this number and no longer runs needs no suppression record.
    if (!current && campaign.status === "ARCHIVED") continue;
    const to = nextStatus(current?.status ?? null, { kind: "OPT_OUT" });
    if (!to) continue;
    changedCampaigns.push(campaign);
    changes.push({
      campaignId: campaign.id,
      consentId: current?.id ?? null,
      from: current?.status ?? null,
      to,
      disclosureVersionId: current?.disclosureVersionId ?? null,
      expiresAt: null,
      evidence: { ...(request.evidence ?? {}), scope: request.scope },
    });
  }
  const { consents, events } = await applyChanges(tx, head, ctx, subscriber.id, changes);
  const disclosuresOf = (c: (typeof inScope)[number]) => c.disclosures[0];
  const confirmationMessage =
    changedCampaigns.length === 0
      ? null
      : changedCampaigns.length === 1
        ? optOutConfirmation(disclosuresOf(changedCampaigns[0]))
        : organizationOptOutConfirmation([
            ...new Set(changedCampaigns.map((c) => disclosuresOf(c).programName)),
          ]);
  const unchanged = existing.filter(
    (c) => !consents.some((changed) => changed.campaignId === c.campaignId),
  );
  const visible = (campaignId: string) =>
    !ctx.visibleCampaignIds || ctx.visibleCampaignIds.includes(campaignId);
  return {
    consents: [...consents, ...unchanged].filter((c) => visible(c.campaignId)),
    events: events.filter((e) => e.campaignId && visible(e.campaignId)),
    changed: consents.length > 0,
    confirmationMessage,
    subscriberId: subscriber.id,
  };
}

// ---------------------------------------------------------------------------------------------
// Mutations

/**
 * Runs a ledger transaction in the organization's turn among this process's writers, then tells
 * every instance's streams to read the organization's new rows.
 */
async function inLedgerTurn<T>(runtime: Runtime, organizationId: string, run: () => Promise<T>) {
  const result = await inTurn(organizationId, TRANSACTION.maxWait, run);
  runtime.wakeups.publish(organizationId);
  return result;
}

/** Runs `work` in one transaction holding the organization's ledger lock. */
export function withLedger<T>(
  runtime: Runtime,
  organizationId: string,
  work: (tx: Tx, head: LedgerHead) => Promise<T>,
) {
  return inLedgerTurn(runtime, organizationId, () =>
    runtime.prisma.$transaction(
      async (tx) => work(tx, await lockLedger(tx, organizationId)),
      TRANSACTION,
    ),
  );
}

/**
 * withLedger for plain SQL (Database.transaction): the same turn, lock, time limit and wake-up.
 * For bulk writes (the import).
 */
export function withLedgerSql<T>(
  runtime: Runtime,
  organizationId: string,
  work: (sql: SqlQuery, head: LedgerHead) => Promise<T>,
) {
  return inLedgerTurn(runtime, organizationId, () =>
    runtime.transaction(async (sql) => work(sql, await lockLedgerSql(sql, organizationId)), {
      timeoutMs: TRANSACTION.timeout,
    }),
  );
}

function changeContext(
  runtime: Runtime,
  actor: Actor,
  method: ConsentMethod,
  occurredAt: Date,
  now: Date,
): ChangeContext {
  return {
    organizationId: actor.organizationId,
    method,
    occurredAt,
    recordedAt: now,
    apiKeyId: actor.apiKeyId,
    keywordEventId: null,
    visibleCampaignIds: actor.campaignIds,
    pendingTtlMs: runtime.config.pendingTtlHours * 3_600_000,
  };
}

interface StoredResult {
  consentIds: string[];
  eventIds: string[];
  changed: boolean;
  confirmationMessage: string | null;
}

async function replayed(tx: Tx, result: StoredResult) {
  const [consents, events] = await Promise.all([
    tx.consent.findMany({ where: { id: { in: result.consentIds } } }),
    tx.consentEvent.findMany({
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

export interface OptInInput {
  phone: string;
  campaignId: string;
  method: ConsentMethod;
  occurredAt?: Date | null;
  evidence?: unknown;
  idempotencyKey?: string | null;
}

export async function optIn(runtime: Runtime, actor: Actor, input: OptInInput) {
  assertMayWrite(actor);
  const now = new Date();
  const phone = normalizePhone(input.phone, runtime.config.defaultRegion, "input.phone");
  const occurredAt = checkOccurredAt(input.occurredAt, now);
  const evidence = checkEvidence(input.evidence);
  const key = checkIdempotencyKey(input.idempotencyKey);
  if (!mayTouchCampaign(actor, input.campaignId)) throw notFound("campaign", input.campaignId);
  const hash = requestHash("optIn", { ...input, phone, idempotencyKey: undefined });
  return withLedger(runtime, actor.organizationId, async (tx, head) => {
    if (key) {
      const previous = await replay<StoredResult>(tx, actor.organizationId, key, "optIn", hash);
      if (previous) {
        const r = await replayed(tx, previous);
        return {
          consent: r.consents[0],
          event: r.events[0] ?? null,
          changed: r.changed,
          confirmationMessage: r.confirmationMessage,
        };
      }
    }
    const ctx = changeContext(runtime, actor, input.method, occurredAt, now);
    const outcome = await optInWithin(tx, head, ctx, {
      phone,
      campaignId: input.campaignId,
      source: "INTEGRATION",
      evidence,
    });
    if (!outcome.consent) throw new Error("opt-in left no consent");
    if (key) {
      await remember(tx, actor.organizationId, key, "optIn", hash, {
        consentIds: [outcome.consent.id],
        eventIds: outcome.event ? [outcome.event.id] : [],
        changed: outcome.changed,
        confirmationMessage: outcome.confirmationMessage,
      } satisfies StoredResult);
    }
    return {
      consent: outcome.consent,
      event: outcome.event,
      changed: outcome.changed,
      confirmationMessage: outcome.confirmationMessage,
    };
  });
}

export interface ConfirmOptInInput {
  phone: string;
  campaignId: string;
  method?: ConsentMethod | null;
  evidence?: unknown;
}

export async function confirmOptIn(runtime: Runtime, actor: Actor, input: ConfirmOptInInput) {
  assertMayWrite(actor);
  const now = new Date();
  const phone = normalizePhone(input.phone, runtime.config.defaultRegion, "input.phone");
  const evidence = checkEvidence(input.evidence);
  if (!mayTouchCampaign(actor, input.campaignId)) throw notFound("campaign", input.campaignId);
  return withLedger(runtime, actor.organizationId, async (tx, head) => {
    const ctx = changeContext(runtime, actor, input.method ?? "KEYWORD", now, now);
    const outcome = await confirmWithin(tx, head, ctx, {
      phone,
      campaignId: input.campaignId,
      evidence,
    });
    if (!outcome.consent) throw new Error("confirmation left no consent");
    return { consent: outcome.consent, event: outcome.event, changed: outcome.changed };
  });
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
  assertMayWrite(actor);
  const now = new Date();
  const phone = normalizePhone(input.phone, runtime.config.defaultRegion, "input.phone");
  const scope = input.scope ?? "CAMPAIGN";
  if (scope !== "ORGANIZATION" && !input.campaignId) {
    throw badInput("input.campaignId", `is required for scope ${scope}`);
  }
  if (input.reason != null && input.reason.length > 500)
    throw badInput("input.reason", "must be at most 500 characters");
  if (input.campaignId && !mayTouchCampaign(actor, input.campaignId))
    throw notFound("campaign", input.campaignId);
  const provided = checkEvidence(input.evidence);
  const evidence = input.reason ? { ...(provided ?? {}), reason: input.reason } : provided;
  const key = checkIdempotencyKey(input.idempotencyKey);
  const hash = requestHash("optOut", { ...input, phone, scope, idempotencyKey: undefined });
  return withLedger(runtime, actor.organizationId, async (tx, head) => {
    if (key) {
      const previous = await replay<StoredResult>(tx, actor.organizationId, key, "optOut", hash);
      if (previous) return replayed(tx, previous);
    }
    const ctx = changeContext(runtime, actor, input.method, now, now);
    const outcome = await optOutWithin(tx, head, ctx, {
      phone,
      scope,
      campaignId: input.campaignId ?? null,
      evidence,
    });
    const result = {
      consents: outcome.consents,
      events: outcome.events,
      changed: outcome.changed,
      confirmationMessage: outcome.confirmationMessage,
    };
    if (key) {
      await remember(tx, actor.organizationId, key, "optOut", hash, {
        consentIds: result.consents.map((c) => c.id),
        eventIds: result.events.map((e) => e.id),
        changed: result.changed,
        confirmationMessage: result.confirmationMessage,
      } satisfies StoredResult);
    }
    return result;
  });
}

/**
 * Expires every PENDING consent whose confirmation window has passed (one EXPIRED event each).
 * Returns how many expired. Safe to run from several instances at once.
 */
export async function expirePendingConsents(runtime: Runtime, now = new Date()): Promise<number> {
  const organizations = await runtime.prisma.consent.findMany({
    where: { status: "PENDING", expiresAt: { lte: now } },
    distinct: ["organizationId"],
    select: { organizationId: true },
  });
  let expired = 0;
  for (const { organizationId } of organizations) {
    expired += await withLedger(runtime, organizationId, async (tx, head) => {
      const due = await tx.consent.findMany({
        where: { organizationId, status: "PENDING", expiresAt: { lte: now } },
        orderBy: { id: "asc" },
      });
      for (const consent of due) {
        const ctx: ChangeContext = {
          organizationId,
          method: consent.method,
          occurredAt: consent.expiresAt ?? now,
          recordedAt: now,
          apiKeyId: null,
          keywordEventId: null,
          visibleCampaignIds: null,
          pendingTtlMs: 0,
        };
        await applyChanges(tx, head, ctx, consent.subscriberId, [
          {
            campaignId: consent.campaignId,
            consentId: consent.id,
            from: "PENDING",
            to: "EXPIRED",
            disclosureVersionId: consent.disclosureVersionId,
            expiresAt: null,
            evidence: {
              reason: "double opt-in not confirmed in time",
              pendingSince: { sequence: consent.lastSequence },
            },
          },
        ]);
      }
      return due.length;
    });
  }
  return expired;
}
