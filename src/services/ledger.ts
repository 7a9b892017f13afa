// The ledger writer: the only module that appends consent events. Every consent change arrives as
// a request (a command for one number, decided by src/domain/decider.ts) and is applied with the
// others waiting for the same organization in one transaction (group commit): the organization's
// ledger head is locked, the state of every number in the batch is read set-wise, each request is
// decided in order against the state the requests before it left, and the batch's subscribers,
// inbound messages, consents, hash-chained events and idempotency records are written with one
// statement each. Each request gets its own outcome; a refused one writes nothing, and a batch
// whose transaction fails is tried again in halves, so one bad request never fails the others.
// Locking the head row serializes an organization's writers across instances: sequence numbers are
// gap-free in commit order and each hash chains from the event committed just before it.
import { newId } from "../db/ids.ts";
import { isDatabaseUnavailable, type Prisma, type SqlQuery } from "../db/client.ts";
import {
  decide,
  evolve,
  type CommandContext,
  type ConsentCommand,
  type ConsentFacts,
  type Decision,
} from "../domain/decider.ts";
import { conflict, DomainError } from "../domain/errors.ts";
import type { Classification } from "../domain/keywords.ts";
import {
  ChainVerifier,
  eventHash,
  ledgerJson,
  type ChainCheck,
  type LedgerFacts,
} from "../domain/ledger.ts";
import type { Consent, ConsentEvent, KeywordEvent } from "../generated/prisma/client.ts";
import { inTurn, LedgerBusyError } from "./ledger-gate.ts";
import { insertEvents, insertKeywordEvents, upsertConsents } from "./ledger-rows.ts";
import {
  emptyReach,
  readCampaigns,
  readConsents,
  readSubscribers,
  upsertSubscribers,
  type CampaignReach,
  type ConsentRecord,
} from "./ledger-state.ts";
import type { Runtime } from "./runtime.ts";

/** An inbound message to keep as a KeywordEvent; the events it causes cite it. */
export interface InboundRecord {
  senderId: string;
  from: string;
  to: string;
  body: string;
  providerMessageId: string | null;
  classification: Classification;
  receivedAt: Date;
}

/** One consent change to decide and write, for one phone number. */
export interface LedgerRequest {
  /** the subscriber's number, E.164 */
  phone: string;
  command: ConsentCommand;
  context: CommandContext;
  apiKeyId: string | null;
  message?: InboundRecord;
  idempotency?: { key: string; operation: string; hash: string };
}

/** What a keyed request answered the first time; a retry gets it again. */
export interface StoredResult {
  consentIds: string[];
  eventIds: string[];
  changed: boolean;
  confirmationMessage: string | null;
}

export type LedgerOutcome =
  | { kind: "REFUSED"; error: DomainError }
  /** an idempotency key seen before with the same input */
  | { kind: "REPLAYED"; stored: StoredResult }
  /** a provider message id seen before with the same message */
  | { kind: "DUPLICATE"; keywordEventId: string }
  | {
      kind: "WRITTEN";
      changed: boolean;
      message: string | null;
      /** the consents the command concerns, as this request left them */
      consents: Consent[];
      events: ConsentEvent[];
      keywordEvent: KeywordEvent | null;
    };

export interface LedgerHead {
  organizationId: string;
  sequence: number;
  hash: string;
}

/** Requests a batch takes at most; the rest wait for the next turn. */
const MAX_BATCH = 500;
/** How long a request may wait for its organization's turn before a retryable refusal. */
const MAX_WAIT_MS = 10_000;
const TRANSACTION_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Group commit

interface Waiting {
  request: LedgerRequest;
  resolve: (outcome: LedgerOutcome) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

const queues = new Map<string, Waiting[]>();
const flushing = new Set<string>();

/**
 * Decides and writes one request in the organization's next batch; resolves once it committed
 * (and every instance's streams were woken) with its own outcome.
 */
export function write(
  runtime: Runtime,
  organizationId: string,
  request: LedgerRequest,
): Promise<LedgerOutcome> {
  return new Promise((resolve, reject) => {
    let queue = queues.get(organizationId);
    if (!queue) queues.set(organizationId, (queue = []));
    const waiting: Waiting = {
      request,
      resolve,
      reject,
      timer: setTimeout(() => {
        const index = queue.indexOf(waiting);
        if (index < 0) return;
        queue.splice(index, 1);
        reject(new LedgerBusyError(MAX_WAIT_MS));
      }, MAX_WAIT_MS),
    };
    queue.push(waiting);
    if (!flushing.has(organizationId)) void flush(runtime, organizationId, queue);
  });
}

async function flush(runtime: Runtime, organizationId: string, queue: Waiting[]) {
  flushing.add(organizationId);
  try {
    while (queue.length > 0) {
      try {
        await inTurn(organizationId, MAX_WAIT_MS, async () => {
          const batch = queue.splice(0, MAX_BATCH);
          for (const waiting of batch) clearTimeout(waiting.timer);
          await commitBatch(runtime, organizationId, batch);
        });
      } catch (error) {
        // the turn did not come in time: the waiting requests time out on their own
        if (!(error instanceof LedgerBusyError)) throw error;
      }
    }
  } finally {
    flushing.delete(organizationId);
    if (queues.get(organizationId) === queue && queue.length === 0) queues.delete(organizationId);
  }
}

async function commitBatch(runtime: Runtime, organizationId: string, batch: Waiting[]) {
  let outcomes: LedgerOutcome[];
  try {
    outcomes = await runtime.transaction(
      (sql) =>
        appendChanges(
          sql,
          organizationId,
          batch.map((w) => w.request),
        ),
      { timeoutMs: TRANSACTION_TIMEOUT_MS },
    );
  } catch (error) {
    if (batch.length > 1 && !isDatabaseUnavailable(error)) {
      // Nothing was written: find the request that fails on its own.
      const half = Math.ceil(batch.length / 2);
      await commitBatch(runtime, organizationId, batch.slice(0, half));
      await commitBatch(runtime, organizationId, batch.slice(half));
      return;
    }
    for (const waiting of batch) waiting.reject(error);
    return;
  }
  runtime.wakeups.publish(organizationId);
  batch.forEach((waiting, i) => waiting.resolve(outcomes[i]));
}

/** Runs `work` in a plain SQL transaction in the organization's turn among this process's writers. */
export async function inLedgerTurn<T>(
  runtime: Runtime,
  organizationId: string,
  work: (sql: SqlQuery) => Promise<T>,
): Promise<T> {
  const result = await inTurn(organizationId, MAX_WAIT_MS, () =>
    runtime.transaction(work, { timeoutMs: TRANSACTION_TIMEOUT_MS }),
  );
  runtime.wakeups.publish(organizationId);
  return result;
}

// ---------------------------------------------------------------------------------------------
// One batch, inside a transaction

const LOCK_HEAD = `select "ledgerSequence", "ledgerHeadHash", "keywordSequence" from "Organization"
  where id = $1::uuid for no key update`;

export interface AppendOptions {
  /** subscriber ids by number already made for the batch (an import makes them ahead) */
  subscribers?: ReadonlyMap<string, string>;
}

const pairKey = (phone: string, campaignId: string) => `${phone} ${campaignId}`;

interface Decided {
  kind: "DECIDED";
  decision: Extract<Decision, { kind: "DECIDED" }>;
  evidenceTexts: string[];
  sequences: number[];
  consentIds: string[];
}

/** A retry of an earlier request of the same batch: it gets that request's answer. */
interface Repeat {
  kind: "REPEAT";
  of: number;
  as: "REPLAYED" | "DUPLICATE";
}

type Pending = LedgerOutcome | Decided | Repeat;

function reachOf(requests: readonly LedgerRequest[]): CampaignReach {
  const reach = emptyReach();
  for (const { command } of requests) {
    switch (command.kind) {
      case "OPT_IN":
      case "CONFIRM":
      case "EXPIRE":
        reach.campaignIds.add(command.campaignId);
        break;
      case "OPT_OUT":
        if (command.scope === "ORGANIZATION") reach.all = true;
        else if (command.campaignId && command.scope === "SENDER")
          reach.sendersOfCampaigns.add(command.campaignId);
        else if (command.campaignId) reach.campaignIds.add(command.campaignId);
        break;
      case "KEYWORD":
        reach.senderIds.add(command.senderId);
        if (command.classification.intent === "OPT_OUT_ALL") reach.all = true;
        break;
    }
  }
  return reach;
}

/**
 * Decides and writes `requests`, in order, after locking the organization's ledger head, and moves
 * the head. Call it first in its transaction. Returns one outcome per request.
 */
export async function appendChanges(
  sql: SqlQuery,
  organizationId: string,
  requests: readonly LedgerRequest[],
  options: AppendOptions = {},
): Promise<LedgerOutcome[]> {
  const [head] = await sql<{
    ledgerSequence: number;
    ledgerHeadHash: string;
    keywordSequence: number;
  }>(LOCK_HEAD, [organizationId]);
  if (!head) throw new Error(`organization ${organizationId} does not exist`);
  const outcomes: Pending[] = new Array(requests.length);

  // Idempotency keys and provider message ids seen before.
  const keys = [...new Set(requests.flatMap((r) => (r.idempotency ? [r.idempotency.key] : [])))];
  const records = new Map<string, { operation: string; requestHash: string; result: unknown }>();
  if (keys.length > 0) {
    for (const row of await sql<{
      key: string;
      operation: string;
      requestHash: string;
      result: StoredResult;
    }>(
      `select key, operation, "requestHash", result from "IdempotencyRecord"
       where "organizationId" = $1::uuid and key = any($2::text[])`,
      [organizationId, keys],
    )) {
      records.set(row.key, row);
    }
  }
  const messageIds = [
    ...new Set(
      requests.flatMap((r) => (r.message?.providerMessageId ? [r.message.providerMessageId] : [])),
    ),
  ];
  const seenMessages = new Map<string, { id: string; from: string; to: string; body: string }>();
  if (messageIds.length > 0) {
    for (const row of await sql<{
      id: string;
      providerMessageId: string;
      from: string;
      to: string;
      body: string;
    }>(
      `select id::text, "providerMessageId", "from", "to", body from "KeywordEvent"
       where "organizationId" = $1::uuid and "providerMessageId" = any($2::text[])`,
      [organizationId, messageIds],
    )) {
      seenMessages.set(row.providerMessageId, row);
    }
  }

  const campaigns = await readCampaigns(sql, organizationId, reachOf(requests));
  const phones = [...new Set(requests.map((r) => r.phone))];
  const subscribers = new Map(options.subscribers);
  const unknown = phones.filter((phone) => !subscribers.has(phone));
  for (const [phone, id] of await readSubscribers(sql, organizationId, unknown)) {
    subscribers.set(phone, id);
  }
  const stored = await readConsents(sql, [
    ...new Set(phones.flatMap((p) => (subscribers.has(p) ? [subscribers.get(p)!] : []))),
  ]);
  /** each number's consents by campaign, as the batch leaves them */
  const consentsOf = new Map<string, Map<string, ConsentFacts>>();
  /** the stored row of each consent, for the columns the decider does not read */
  const recordOf = new Map<string, ConsentRecord>();
  for (const phone of phones) {
    const map = new Map<string, ConsentFacts>();
    for (const record of stored.get(subscribers.get(phone) ?? "") ?? []) {
      map.set(record.facts.campaignId, record.facts);
      recordOf.set(pairKey(phone, record.facts.campaignId), record);
    }
    consentsOf.set(phone, map);
  }
  // Decide each request in order against the state the requests before it left.
  let sequence = head.ledgerSequence;
  const keyed = new Map<string, { hash: string; index: number }>();
  const messaged = new Map<string, { index: number; from: string; to: string; body: string }>();
  requests.forEach((request, index) => {
    if (request.idempotency) {
      const { key, operation, hash } = request.idempotency;
      const record = records.get(key);
      const earlier = keyed.get(key);
      const sameInput = record
        ? record.operation === operation && record.requestHash === hash
        : earlier?.hash === `${operation} ${hash}`;
      if (record || earlier) {
        outcomes[index] = !sameInput
          ? {
              kind: "REFUSED",
              error: conflict(
                `idempotencyKey "${key}" was already used with different input.`,
                "input.idempotencyKey",
              ),
            }
          : record
            ? { kind: "REPLAYED", stored: record.result as StoredResult }
            : { kind: "REPEAT", of: earlier!.index, as: "REPLAYED" };
        return;
      }
    }
    const message = request.message;
    if (message?.providerMessageId) {
      const seen =
        seenMessages.get(message.providerMessageId) ?? messaged.get(message.providerMessageId);
      if (seen) {
        const same =
          seen.from === message.from && seen.to === message.to && seen.body === message.body;
        outcomes[index] = !same
          ? {
              kind: "REFUSED",
              error: conflict(
                `providerMessageId "${message.providerMessageId}" was already used for another message.`,
                "input.providerMessageId",
              ),
            }
          : "id" in seen
            ? { kind: "DUPLICATE", keywordEventId: seen.id }
            : { kind: "REPEAT", of: seen.index, as: "DUPLICATE" };
        return;
      }
    }
    const consents = consentsOf.get(request.phone)!;
    const decision = decide({ campaigns, consents }, request.command, request.context);
    if (decision.kind === "REFUSED") {
      outcomes[index] = { kind: "REFUSED", error: decision.error };
      return;
    }
    let evidenceTexts: string[];
    try {
      evidenceTexts = decision.changes.map((change) => ledgerJson(change.evidence));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcomes[index] = { kind: "REFUSED", error };
      return;
    }
    const decided: Decided = {
      kind: "DECIDED",
      decision,
      evidenceTexts,
      sequences: [],
      consentIds: [],
    };
    for (const change of decision.changes) {
      const current = consents.get(change.campaignId);
      const consentId = current?.id ?? newId();
      sequence += 1;
      decided.sequences.push(sequence);
      decided.consentIds.push(consentId);
      consents.set(
        change.campaignId,
        evolve(current, change, { consentId, sequence, method: request.context.method }),
      );
    }
    outcomes[index] = decided;
    if (request.idempotency) {
      const { key, operation, hash } = request.idempotency;
      keyed.set(key, { hash: `${operation} ${hash}`, index });
    }
    if (message?.providerMessageId) {
      messaged.set(message.providerMessageId, { index, ...message });
    }
  });

  // Numbers that change get their subscriber now.
  const needed = phones.filter(
    (phone) =>
      !subscribers.has(phone) &&
      requests.some(
        (r, i) =>
          r.phone === phone &&
          outcomes[i].kind === "DECIDED" &&
          (outcomes[i] as Decided).decision.changes.length > 0,
      ),
  );
  const recordedAt = requests[0]?.context.recordedAt ?? new Date();
  if (needed.length > 0) {
    for (const [phone, id] of await upsertSubscribers(sql, organizationId, needed, recordedAt)) {
      subscribers.set(phone, id);
    }
  }

  // Rows, in request order; each request's payload is the state as it left it.
  let prevHash = head.ledgerHeadHash;
  let keywordSequence = head.keywordSequence;
  const consentRows = new Map<string, Consent>();
  const eventRows: (ConsentEvent & { evidenceText: string })[] = [];
  const keywordRows: KeywordEvent[] = [];
  const idempotencyRows: { key: string; operation: string; hash: string; result: string }[] = [];
  const final: LedgerOutcome[] = new Array(requests.length);
  const rowOf = (phone: string, campaignId: string): Consent | undefined => {
    const written = consentRows.get(pairKey(phone, campaignId));
    if (written) return written;
    const facts = consentsOf.get(phone)!.get(campaignId);
    const subscriberId = subscribers.get(phone);
    if (!facts || !subscriberId) return undefined;
    const record = recordOf.get(pairKey(phone, campaignId));
    return {
      id: facts.id,
      organizationId,
      subscriberId,
      campaignId,
      status: facts.status,
      method: record?.method ?? facts.lastMethod,
      disclosureVersionId: facts.disclosureVersionId,
      lastSequence: facts.lastSequence,
      expiresAt: facts.expiresAt,
      hadConsented: record?.hadConsented ?? false,
      createdAt: record?.createdAt ?? recordedAt,
      updatedAt: record?.updatedAt ?? recordedAt,
    };
  };
  requests.forEach((request, index) => {
    const outcome = outcomes[index];
    if (outcome.kind === "REPEAT") return;
    if (outcome.kind !== "DECIDED") {
      final[index] = outcome;
      return;
    }
    const { decision } = outcome;
    const subscriberId = subscribers.get(request.phone) ?? null;
    let keywordEvent: KeywordEvent | null = null;
    if (request.message) {
      const m = request.message;
      keywordSequence += 1;
      keywordEvent = {
        id: newId(),
        organizationId,
        sequence: keywordSequence,
        senderId: m.senderId,
        from: m.from,
        to: m.to,
        body: m.body,
        providerMessageId: m.providerMessageId,
        keyword: m.classification.keyword,
        intent: m.classification.intent,
        needsReview: m.classification.needsReview,
        reviewedAt: null,
        campaignIds: decision.campaignIds,
        reply: decision.message,
        repliedAt: decision.message ? request.context.recordedAt : null,
        receivedAt: m.receivedAt,
        recordedAt: request.context.recordedAt,
        apiKeyId: request.apiKeyId,
      };
      keywordRows.push(keywordEvent);
    }
    const events: ConsentEvent[] = [];
    decision.changes.forEach((change, i) => {
      const facts: LedgerFacts = {
        organizationId,
        sequence: outcome.sequences[i],
        subscriberId: subscriberId!,
        campaignId: change.campaignId,
        consentId: outcome.consentIds[i],
        fromStatus: change.from,
        toStatus: change.to,
        method: request.context.method,
        occurredAt: change.occurredAt,
        recordedAt: request.context.recordedAt,
        evidence: change.evidence,
        disclosureVersionId: change.disclosureVersionId,
        apiKeyId: request.apiKeyId,
        keywordEventId: keywordEvent?.id ?? null,
      };
      const hash = eventHash(prevHash, facts);
      const row = {
        ...facts,
        id: newId(),
        evidence: change.evidence as ConsentEvent["evidence"],
        prevHash,
        hash,
        evidenceText: outcome.evidenceTexts[i],
      };
      prevHash = hash;
      eventRows.push(row);
      events.push(row);
      const previous = rowOf(request.phone, change.campaignId);
      consentRows.set(pairKey(request.phone, change.campaignId), {
        id: outcome.consentIds[i],
        organizationId,
        subscriberId: subscriberId!,
        campaignId: change.campaignId,
        status: change.to,
        method: request.context.method,
        disclosureVersionId: change.disclosureVersionId ?? previous?.disclosureVersionId ?? null,
        lastSequence: outcome.sequences[i],
        expiresAt: change.expiresAt,
        hadConsented: (previous?.hadConsented ?? false) || change.to === "OPTED_IN",
        createdAt: previous?.createdAt ?? request.context.recordedAt,
        updatedAt: request.context.recordedAt,
      });
    });
    const consents = decision.campaignIds.flatMap((campaignId) => {
      const row = rowOf(request.phone, campaignId);
      return row ? [{ ...row }] : [];
    });
    const written: LedgerOutcome = {
      kind: "WRITTEN",
      changed: events.length > 0,
      message: decision.message,
      consents,
      events,
      keywordEvent,
    };
    final[index] = written;
    if (request.idempotency) {
      idempotencyRows.push({
        key: request.idempotency.key,
        operation: request.idempotency.operation,
        hash: request.idempotency.hash,
        result: JSON.stringify({
          consentIds: consents.map((c) => c.id),
          eventIds: events.map((e) => e.id),
          changed: events.length > 0,
          confirmationMessage: decision.message,
        } satisfies StoredResult),
      });
    }
  });
  // A retry inside the batch gets the first request's answer; a repeated message its first record.
  requests.forEach((_request, index) => {
    const outcome = outcomes[index];
    if (outcome.kind !== "REPEAT") return;
    const first = final[outcome.of];
    if (first.kind !== "WRITTEN") final[index] = first;
    else if (outcome.as === "DUPLICATE")
      final[index] = { kind: "DUPLICATE", keywordEventId: first.keywordEvent!.id };
    else
      final[index] = {
        kind: "REPLAYED",
        stored: {
          consentIds: first.consents.map((c) => c.id),
          eventIds: first.events.map((e) => e.id),
          changed: first.changed,
          confirmationMessage: first.message,
        },
      };
  });

  await insertKeywordEvents(sql, keywordRows);
  await upsertConsents(sql, [...consentRows.values()]);
  await insertEvents(sql, eventRows);
  if (idempotencyRows.length > 0) {
    await sql(
      `insert into "IdempotencyRecord" ("organizationId", key, operation, "requestHash", result, "createdAt")
       select $1::uuid, r.key, r.operation, r.hash, r.result::jsonb, $2::timestamp(3)
       from unnest($3::text[], $4::text[], $5::text[], $6::text[]) as r(key, operation, hash, result)`,
      [
        organizationId,
        recordedAt.toISOString(),
        idempotencyRows.map((r) => r.key),
        idempotencyRows.map((r) => r.operation),
        idempotencyRows.map((r) => r.hash),
        idempotencyRows.map((r) => r.result),
      ],
    );
  }
  if (eventRows.length > 0 || keywordRows.length > 0) {
    await sql(
      `update "Organization" set "ledgerSequence" = $2, "ledgerHeadHash" = $3, "keywordSequence" = $4
       where id = $1::uuid`,
      [organizationId, sequence, prevHash, keywordSequence],
    );
  }
  return final;
}

// ---------------------------------------------------------------------------------------------
// Verification

const VERIFY_BATCH = 5000;

/**
 * Recomputes the organization's whole chain, reading it in batches. Evidence is read as the text
 * the database holds and parsed here, so what is checked is what is stored.
 */
export async function verifyLedger(prisma: Prisma, organizationId: string): Promise<ChainCheck> {
  const organization = await prisma.organization.findUniqueOrThrow({
    where: { id: organizationId },
    select: { ledgerSequence: true, ledgerHeadHash: true },
  });
  const verifier = new ChainVerifier();
  let after = 0;
  for (;;) {
    const rows = await prisma.$queryRawUnsafe<
      (Omit<LedgerFacts, "occurredAt" | "recordedAt" | "evidence"> & {
        id: string;
        prevHash: string;
        hash: string;
        occurredAtMs: number;
        recordedAtMs: number;
        evidenceText: string | null;
      })[]
    >(
      `select id::text, "organizationId"::text as "organizationId", sequence,
              "subscriberId"::text as "subscriberId", "campaignId"::text as "campaignId",
              "consentId"::text as "consentId", "fromStatus"::text as "fromStatus",
              "toStatus"::text as "toStatus", method::text as method,
              (extract(epoch from "occurredAt") * 1000)::float8 as "occurredAtMs",
              (extract(epoch from "recordedAt") * 1000)::float8 as "recordedAtMs",
              evidence::text as "evidenceText", "disclosureVersionId"::text as "disclosureVersionId",
              "apiKeyId"::text as "apiKeyId", "keywordEventId"::text as "keywordEventId",
              "prevHash", hash
       from "ConsentEvent"
       where "organizationId" = $1::uuid and sequence > $2 and sequence <= $3
       order by sequence limit $4`,
      organizationId,
      after,
      organization.ledgerSequence,
      VERIFY_BATCH,
    );
    const batch = rows.map(({ occurredAtMs, recordedAtMs, evidenceText, ...row }) => ({
      ...row,
      occurredAt: new Date(occurredAtMs),
      recordedAt: new Date(recordedAtMs),
      evidence: evidenceText === null ? null : (JSON.parse(evidenceText) as unknown),
    }));
    if (batch.length === 0 || !verifier.feed(batch)) break;
    after = batch[batch.length - 1].sequence;
  }
  return verifier.result({
    sequence: organization.ledgerSequence,
    hash: organization.ledgerHeadHash,
  });
}

/** Locks the organization's ledger head until the transaction ends (appendChanges does it too). */
export async function lockLedger(sql: SqlQuery, organizationId: string): Promise<void> {
  const rows = await sql(LOCK_HEAD, [organizationId]);
  if (rows.length === 0) throw new Error(`organization ${organizationId} does not exist`);
}
