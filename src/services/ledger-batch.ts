// One group commit's batch, inside its transaction: the ledger writer's core (ledger.ts calls it,
// and so does the import inside its own transaction). The organization's ledger head is locked,
// the state of every number in the batch is read set-wise, each request is decided in order
// against the state the requests before it left (src/domain/decider.ts), and the batch's
// new subscribers are made, then its inbound messages, consents, hash-chained events, idempotency
// records and new head are written in one statement (src/services/ledger-rows.ts). Each request
// gets its own outcome; a refused one writes nothing.
import { newId } from "../db/ids.ts";
import { jsonbValue } from "../db/jsonb.ts";
import type { SqlQuery } from "../db/client.ts";
import {
  decide,
  evolve,
  type CampaignFacts,
  type CommandContext,
  type ConsentCommand,
  type ConsentFacts,
  type Decision,
  type ReviewFacts,
  type ReviewRecord,
} from "../domain/decider.ts";
import { conflict, DomainError } from "../domain/errors.ts";
import type { Classification } from "../domain/keywords.ts";
import { eventHash, ledgerJson, type LedgerFacts } from "../domain/ledger.ts";
import type { Consent, ConsentEvent, KeywordEvent } from "../generated/prisma/client.ts";
import { writeBatch, type EventRow, type IdempotencyRow, type LedgerHead } from "./ledger-rows.ts";
import {
  campaignsQuery,
  consentsQuery,
  emptyReach,
  idempotencyRecordsQuery,
  readReviews,
  readTogether,
  seenMessagesQuery,
  settle,
  subscribersQuery,
  upsertSubscribers,
  type CampaignReach,
  type ConsentRecord,
  type IdempotencyRecordRow,
  type SeenMessage,
} from "./ledger-state.ts";

/** An inbound message to keep as a KeywordEvent; the events it causes cite it. */
export interface InboundRecord {
  senderId: string;
  from: string;
  to: string;
  body: string;
  providerMessageId: string | null;
  classification: Classification;
  receivedAt: Date;
  /** when a message marked for review must be decided (null when it is not marked) */
  reviewDueAt?: Date | null;
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

export interface AppendOptions {
  /** subscriber ids by number already made for the batch (an import makes them ahead) */
  subscribers?: ReadonlyMap<string, string>;
}

const LOCK_HEAD = `select "ledgerSequence", "ledgerHeadHash", "keywordSequence" from "Organization"
  where id = $1::uuid for no key update`;

/** Locks the organization's ledger head until the transaction ends. */
export async function lockHead(sql: SqlQuery, organizationId: string): Promise<LedgerHead> {
  const [head] = await sql<LedgerHead>(LOCK_HEAD, [organizationId]);
  if (!head) throw new Error(`organization ${organizationId} does not exist`);
  return head;
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

function reachOf(
  requests: readonly LedgerRequest[],
  reviews: ReadonlyMap<string, ReviewFacts>,
): CampaignReach {
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
        if (command.classification.heldIntent === "OPT_OUT_ALL") reach.all = true;
        break;
      case "REVIEW": {
        const facts = reviews.get(command.keywordEventId);
        if (!facts) break;
        reach.senderIds.add(facts.senderId);
        for (const id of facts.campaignIds) reach.campaignIds.add(id);
        for (const event of facts.caused) reach.campaignIds.add(event.campaignId);
        if (facts.heldIntent === "OPT_OUT_ALL") reach.all = true;
        break;
      }
    }
  }
  return reach;
}

const idempotencyConflict = (key: string) =>
  conflict(
    `idempotencyKey "${key}" was already used with different input.`,
    "input.idempotencyKey",
  );

const messageConflict = (id: string) =>
  conflict(
    `providerMessageId "${id}" was already used for another message.`,
    "input.providerMessageId",
  );

/**
 * One batch in its transaction, phase by phase: read the state of every number set-wise, decide
 * each request in order, make the subscribers that change, build the rows (hash-chained), write
 * them with one statement each.
 */
class Batch {
  private head!: LedgerHead;
  private readonly outcomes: Pending[];
  private readonly final: LedgerOutcome[];
  private sequence = 0;
  private records = new Map<string, IdempotencyRecordRow>();
  private seenMessages = new Map<string, SeenMessage>();
  private campaigns: CampaignFacts[] = [];
  /** the messages the batch's REVIEW commands name, as the batch leaves them */
  private reviews = new Map<string, ReviewFacts>();
  private readonly reviewRows: (ReviewRecord & { apiKeyId: string | null; decidedAt: Date })[] = [];
  private readonly phones: string[];
  private readonly subscribers: Map<string, string>;
  /** each number's consents by campaign, as the batch leaves them */
  private readonly consentsOf = new Map<string, Map<string, ConsentFacts>>();
  /** the stored row of each consent, for the columns the decider does not read */
  private readonly recordOf = new Map<string, ConsentRecord>();
  // the rows to write
  private readonly consentRows = new Map<string, Consent>();
  private readonly eventRows: EventRow[] = [];
  private readonly keywordRows: KeywordEvent[] = [];
  private readonly idempotencyRows: IdempotencyRow[] = [];
  private readonly recordedAt: Date;

  constructor(
    private readonly sql: SqlQuery,
    private readonly organizationId: string,
    private readonly requests: readonly LedgerRequest[],
    options: AppendOptions,
  ) {
    this.outcomes = new Array(requests.length);
    this.final = new Array(requests.length);
    this.phones = [...new Set(requests.map((r) => r.phone))];
    this.subscribers = new Map(options.subscribers);
    this.recordedAt = requests[0]?.context.recordedAt ?? new Date();
  }

  async apply(): Promise<LedgerOutcome[]> {
    // The read goes out right behind the lock, not after its answer: the database runs it as soon
    // as the lock is granted (each statement sees what committed before it), so the lock is held
    // over one turn of this process's event loop instead of two.
    const locked = lockHead(this.sql, this.organizationId);
    const read = this.read();
    [this.head] = await Promise.all([locked, read]);
    this.sequence = this.head.ledgerSequence;
    this.requests.forEach((request, index) => this.decideOne(request, index));
    await this.makeSubscribers();
    this.buildRows();
    this.answerRepeats();
    // Not waited for: the transaction sends its COMMIT right behind the write, one round trip for
    // both, and fails (rolled back) if the write does (src/db/client.ts, Statements).
    this.write().catch(() => undefined);
    return this.final;
  }

  /**
   * The state every request is decided against, in one statement after the lock (two when the
   * batch reviews messages: the campaigns a review reaches depend on the message; three when a
   * consent is PENDING or EXPIRED).
   */
  private async read() {
    const { sql, organizationId, requests } = this;
    const unique = (values: (string | null | undefined)[]) => [
      ...new Set(values.filter((v): v is string => typeof v === "string")),
    ];
    this.reviews = await readReviews(
      sql,
      organizationId,
      unique(requests.map((r) => (r.command.kind === "REVIEW" ? r.command.keywordEventId : null))),
    );
    const known = unique(this.phones.map((phone) => this.subscribers.get(phone)));
    const unknown = this.phones.filter((phone) => !this.subscribers.has(phone));
    const state = await readTogether(sql, {
      records: idempotencyRecordsQuery(
        organizationId,
        unique(requests.map((r) => r.idempotency?.key)),
      ),
      seen: seenMessagesQuery(
        organizationId,
        unique(requests.map((r) => r.message?.providerMessageId)),
      ),
      campaigns: campaignsQuery(organizationId, reachOf(requests, this.reviews)),
      subscribers: subscribersQuery(organizationId, unknown),
      consents: consentsQuery(organizationId, known, unknown),
    });
    this.records = state.records;
    this.seenMessages = state.seen;
    this.campaigns = state.campaigns;
    for (const [phone, id] of state.subscribers) this.subscribers.set(phone, id);
    await settle(sql, state.consents);
    for (const phone of this.phones) {
      const map = new Map<string, ConsentFacts>();
      for (const record of state.consents.get(this.subscribers.get(phone) ?? "") ?? []) {
        map.set(record.facts.campaignId, record.facts);
        this.recordOf.set(pairKey(phone, record.facts.campaignId), record);
      }
      this.consentsOf.set(phone, map);
    }
  }

  /** A retry (same key, same message) answers as before; other input under them is refused. */
  private seenBefore(request: LedgerRequest): Pending | null {
    if (request.idempotency) {
      const { key, operation, hash } = request.idempotency;
      const record = this.records.get(key);
      if (record) {
        return record.operation === operation && record.requestHash === hash
          ? { kind: "REPLAYED", stored: record.result }
          : { kind: "REFUSED", error: idempotencyConflict(key) };
      }
      const index = this.requests.findIndex(
        (r, i) => this.isDecided(i) && r.idempotency?.key === key,
      );
      if (index >= 0) {
        const earlier = this.requests[index].idempotency!;
        return earlier.operation === operation && earlier.hash === hash
          ? { kind: "REPEAT", of: index, as: "REPLAYED" }
          : { kind: "REFUSED", error: idempotencyConflict(key) };
      }
    }
    const message = request.message;
    if (message?.providerMessageId) {
      const id = message.providerMessageId;
      const same = (seen: { from: string; to: string; body: string }) =>
        seen.from === message.from && seen.to === message.to && seen.body === message.body;
      const stored = this.seenMessages.get(id);
      if (stored) {
        return same(stored)
          ? { kind: "DUPLICATE", keywordEventId: stored.id }
          : { kind: "REFUSED", error: messageConflict(id) };
      }
      const index = this.requests.findIndex(
        (r, i) => this.isDecided(i) && r.message?.providerMessageId === id,
      );
      if (index >= 0) {
        return same(this.requests[index].message!)
          ? { kind: "REPEAT", of: index, as: "DUPLICATE" }
          : { kind: "REFUSED", error: messageConflict(id) };
      }
    }
    return null;
  }

  private isDecided(index: number) {
    return this.outcomes[index]?.kind === "DECIDED";
  }

  /** Decides one request against the state the requests before it left, and evolves that state. */
  private decideOne(request: LedgerRequest, index: number) {
    const seen = this.seenBefore(request);
    if (seen) {
      this.outcomes[index] = seen;
      return;
    }
    const consents = this.consentsOf.get(request.phone)!;
    const decision = decide(
      { campaigns: this.campaigns, consents, reviews: this.reviews },
      request.command,
      request.context,
    );
    if (decision.kind === "REFUSED") {
      this.outcomes[index] = { kind: "REFUSED", error: decision.error };
      return;
    }
    let evidenceTexts: string[];
    try {
      evidenceTexts = decision.changes.map((change) => ledgerJson(change.evidence));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.outcomes[index] = { kind: "REFUSED", error };
      return;
    }
    const decided: Decided = {
      kind: "DECIDED",
      decision,
      evidenceTexts,
      sequences: [],
      consentIds: [],
    };
    if (decision.review) {
      const facts = this.reviews.get(decision.review.keywordEventId)!;
      this.reviews.set(facts.keywordEventId, { ...facts, decided: true });
    }
    for (const change of decision.changes) {
      const current = consents.get(change.campaignId);
      const consentId = current?.id ?? newId();
      this.sequence += 1;
      decided.sequences.push(this.sequence);
      decided.consentIds.push(consentId);
      consents.set(
        change.campaignId,
        evolve(current, change, {
          consentId,
          sequence: this.sequence,
          method: request.context.method,
        }),
      );
    }
    this.outcomes[index] = decided;
  }

  /** Numbers that change get their subscriber now; nothing is made for a refused request. */
  private async makeSubscribers() {
    const changing = new Set(
      this.requests.flatMap((r, i) => {
        const outcome = this.outcomes[i];
        return outcome.kind === "DECIDED" && outcome.decision.changes.length > 0 ? [r.phone] : [];
      }),
    );
    const needed = [...changing].filter((phone) => !this.subscribers.has(phone));
    if (needed.length === 0) return;
    const made = await upsertSubscribers(this.sql, this.organizationId, needed, this.recordedAt);
    for (const [phone, id] of made) this.subscribers.set(phone, id);
  }

  /** A consent's row as the batch has left it so far, or as stored. */
  private rowOf(phone: string, campaignId: string): Consent | undefined {
    const written = this.consentRows.get(pairKey(phone, campaignId));
    if (written) return written;
    const facts = this.consentsOf.get(phone)!.get(campaignId);
    const subscriberId = this.subscribers.get(phone);
    if (!facts || !subscriberId) return undefined;
    const record = this.recordOf.get(pairKey(phone, campaignId));
    return {
      id: facts.id,
      organizationId: this.organizationId,
      subscriberId,
      campaignId,
      status: facts.status,
      method: record?.method ?? facts.lastMethod,
      disclosureVersionId: facts.disclosureVersionId,
      lastSequence: facts.lastSequence,
      expiresAt: facts.expiresAt,
      hadConsented: record?.hadConsented ?? false,
      createdAt: record?.createdAt ?? this.recordedAt,
      updatedAt: record?.updatedAt ?? this.recordedAt,
    };
  }

  /** The rows, in request order, hash-chained; each request's answer is the state it left. */
  private buildRows() {
    let prevHash = this.head.ledgerHeadHash;
    this.requests.forEach((request, index) => {
      const outcome = this.outcomes[index];
      if (outcome.kind === "REPEAT") return;
      if (outcome.kind !== "DECIDED") {
        this.final[index] = outcome;
        return;
      }
      const { decision } = outcome;
      const keywordEvent = request.message ? this.keywordRow(request, decision) : null;
      const subscriberId = this.subscribers.get(request.phone)!;
      const events: ConsentEvent[] = decision.changes.map((change, i) => {
        const facts: LedgerFacts = {
          organizationId: this.organizationId,
          sequence: outcome.sequences[i],
          subscriberId,
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
          // a review's events cite the message they decide
          keywordEventId: keywordEvent?.id ?? decision.review?.keywordEventId ?? null,
        };
        const hash = eventHash(prevHash, facts);
        const evidenceText = outcome.evidenceTexts[i];
        // the event as the table gives it back (evidence as stored: jsonb's key order)
        const row: ConsentEvent = {
          ...facts,
          id: newId(),
          evidence: jsonbValue(evidenceText) as ConsentEvent["evidence"],
          prevHash,
          hash,
        };
        prevHash = hash;
        this.eventRows.push({ ...row, evidenceText });
        this.consentChanged(request, row, change.expiresAt);
        return row;
      });
      if (decision.review) {
        this.reviewRows.push({
          ...decision.review,
          apiKeyId: request.apiKeyId,
          decidedAt: request.context.recordedAt,
        });
      }
      const consents = decision.campaignIds.flatMap((campaignId) => {
        const row = this.rowOf(request.phone, campaignId);
        return row ? [{ ...row }] : [];
      });
      this.final[index] = {
        kind: "WRITTEN",
        changed: events.length > 0,
        message: decision.message,
        consents,
        events,
        keywordEvent,
      };
      if (request.idempotency) {
        this.idempotencyRows.push({
          key: request.idempotency.key,
          operation: request.idempotency.operation,
          hash: request.idempotency.hash,
          result: JSON.stringify(storedResultOf(this.final[index])),
        });
      }
    });
    this.head.ledgerHeadHash = prevHash;
    this.head.ledgerSequence = this.sequence;
  }

  private keywordRow(request: LedgerRequest, decision: Decided["decision"]): KeywordEvent {
    const m = request.message!;
    this.head.keywordSequence += 1;
    const row: KeywordEvent = {
      id: newId(),
      organizationId: this.organizationId,
      sequence: this.head.keywordSequence,
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
      review: m.classification.review,
      heldIntent: m.classification.heldIntent,
      reviewDueAt: m.classification.review === "NONE" ? null : (m.reviewDueAt ?? null),
      reviewDecision: null,
      reviewNote: null,
      reviewedByApiKeyId: null,
      reviewedAtDeadline: false,
    };
    this.keywordRows.push(row);
    return row;
  }

  /** The consent's row after `event`. */
  private consentChanged(request: LedgerRequest, event: ConsentEvent, expiresAt: Date | null) {
    const previous = this.rowOf(request.phone, event.campaignId!);
    this.consentRows.set(pairKey(request.phone, event.campaignId!), {
      id: event.consentId!,
      organizationId: this.organizationId,
      subscriberId: event.subscriberId,
      campaignId: event.campaignId!,
      status: event.toStatus,
      method: event.method,
      disclosureVersionId: event.disclosureVersionId ?? previous?.disclosureVersionId ?? null,
      lastSequence: event.sequence,
      expiresAt,
      hadConsented: (previous?.hadConsented ?? false) || event.toStatus === "OPTED_IN",
      createdAt: previous?.createdAt ?? request.context.recordedAt,
      updatedAt: request.context.recordedAt,
    });
  }

  /** A retry inside the batch gets the first request's answer; a repeated message its record. */
  private answerRepeats() {
    this.outcomes.forEach((outcome, index) => {
      if (outcome.kind !== "REPEAT") return;
      const first = this.final[outcome.of];
      if (first.kind !== "WRITTEN") this.final[index] = first;
      else if (outcome.as === "DUPLICATE")
        this.final[index] = { kind: "DUPLICATE", keywordEventId: first.keywordEvent!.id };
      else this.final[index] = { kind: "REPLAYED", stored: storedResultOf(first) };
    });
  }

  private write(): Promise<void> {
    const moved = this.eventRows.length > 0 || this.keywordRows.length > 0;
    return writeBatch(this.sql, {
      organizationId: this.organizationId,
      recordedAt: this.recordedAt,
      keywordEvents: this.keywordRows,
      reviewDecisions: this.reviewRows,
      consents: [...this.consentRows.values()],
      events: this.eventRows,
      idempotencyRecords: this.idempotencyRows,
      head: moved ? this.head : null,
    });
  }
}

function storedResultOf(outcome: LedgerOutcome): StoredResult {
  if (outcome.kind !== "WRITTEN") throw new Error(`no result to store for ${outcome.kind}`);
  return {
    consentIds: outcome.consents.map((c) => c.id),
    eventIds: outcome.events.map((e) => e.id),
    changed: outcome.changed,
    confirmationMessage: outcome.message,
  };
}

/**
 * Decides and writes `requests`, in order, after locking the organization's ledger head, and moves
 * the head. Call it first in its transaction. Returns one outcome per request.
 */
export function appendChanges(
  sql: SqlQuery,
  organizationId: string,
  requests: readonly LedgerRequest[],
  options: AppendOptions = {},
): Promise<LedgerOutcome[]> {
  return new Batch(sql, organizationId, requests, options).apply();
}
