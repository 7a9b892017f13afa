// The ledger writer's write: a batch's inbound messages, review decisions, consents, events,
// idempotency records and the organization's new ledger head, all in one statement whatever the
// batch's size (each table's rows in one data-modifying WITH part, their arrays as parameters).
// One statement is one round trip: a transaction that holds the organization's ledger lock spends
// as few turns of the event loop as it can (docs/BENCHMARKS.md). Only ledger-batch.ts calls it.
// Foreign keys between the parts (an event's consent and message) are checked at the statement's
// end, once every part has run.
import type { SqlQuery } from "../db/client.ts";
import type { Consent, ConsentEvent, KeywordEvent } from "../generated/prisma/client.ts";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The parts of one write statement and their parameters ($1, $2… in the order added). */
class Parts {
  readonly values: unknown[] = [];
  readonly parts: string[] = [];

  /** a parameter's placeholder */
  $(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  add(part: string) {
    this.parts.push(part);
  }
}

function keywordEvents(w: Parts, organizationId: string, rows: readonly KeywordEvent[]) {
  if (rows.length === 0) return;
  const col = <K extends keyof KeywordEvent>(key: K) => rows.map((r) => r[key]);
  const at = (key: "repliedAt" | "receivedAt" | "recordedAt" | "reviewDueAt") =>
    rows.map((r) => iso(r[key]));
  w.add(
    `insert into "KeywordEvent" (id, "organizationId", sequence, "senderId", "from", "to", body,
                                 "providerMessageId", keyword, intent, "needsReview", "campaignIds",
                                 reply, "repliedAt", "receivedAt", "recordedAt", "apiKeyId",
                                 review, "heldIntent", "reviewDueAt")
     select k.id, ${w.$(organizationId)}::uuid, k.sequence, k.sender, k.sender_from, k.sender_to,
            k.body, k.provider_id, k.keyword, k.intent::"KeywordIntent", k.review,
            k.campaigns::uuid[], k.reply, k.replied::timestamp(3), k.received::timestamp(3),
            k.recorded::timestamp(3), k.api_key, k.review_mark::"KeywordReview",
            k.held_intent::"KeywordIntent", k.due::timestamp(3)
     from unnest(${w.$(col("id"))}::uuid[], ${w.$(col("sequence"))}::int[],
                 ${w.$(col("senderId"))}::uuid[], ${w.$(col("from"))}::text[],
                 ${w.$(col("to"))}::text[], ${w.$(col("body"))}::text[],
                 ${w.$(col("providerMessageId"))}::text[], ${w.$(col("keyword"))}::text[],
                 ${w.$(col("intent"))}::text[], ${w.$(col("needsReview"))}::boolean[],
                 ${w.$(rows.map((r) => `{${r.campaignIds.join(",")}}`))}::text[],
                 ${w.$(col("reply"))}::text[], ${w.$(at("repliedAt"))}::text[],
                 ${w.$(at("receivedAt"))}::text[], ${w.$(at("recordedAt"))}::text[],
                 ${w.$(col("apiKeyId"))}::uuid[], ${w.$(col("review"))}::text[],
                 ${w.$(col("heldIntent"))}::text[], ${w.$(at("reviewDueAt"))}::text[])
       as k(id, sequence, sender, sender_from, sender_to, body, provider_id, keyword, intent, review,
            campaigns, reply, replied, received, recorded, api_key, review_mark, held_intent, due)`,
  );
}

/** A review decision on a message the batch decides. */
export interface ReviewDecisionRow {
  keywordEventId: string;
  decision: string;
  note: string | null;
  atDeadline: boolean;
  apiKeyId: string | null;
  decidedAt: Date;
}

/**
 * Records review decisions on their messages. A message already decided keeps its decision: the
 * writer refuses a second one before it gets here, and the condition keeps it so regardless.
 */
function reviewDecisions(w: Parts, rows: readonly ReviewDecisionRow[]) {
  if (rows.length === 0) return;
  w.add(
    `update "KeywordEvent" k set "reviewDecision" = r.decision::"ReviewDecision",
            "reviewNote" = r.note, "reviewedAt" = r.decided::timestamp(3),
            "reviewedByApiKeyId" = r.api_key, "reviewedAtDeadline" = r.deadline
     from unnest(${w.$(rows.map((r) => r.keywordEventId))}::uuid[],
                 ${w.$(rows.map((r) => r.decision))}::text[], ${w.$(rows.map((r) => r.note))}::text[],
                 ${w.$(rows.map((r) => r.decidedAt.toISOString()))}::text[],
                 ${w.$(rows.map((r) => r.apiKeyId))}::uuid[],
                 ${w.$(rows.map((r) => r.atDeadline))}::boolean[])
       as r(id, decision, note, decided, api_key, deadline)
     where k.id = r.id and k."reviewDecision" is null`,
  );
}

function consents(w: Parts, organizationId: string, rows: readonly Consent[]) {
  if (rows.length === 0) return;
  const col = <K extends keyof Consent>(key: K) => rows.map((r) => r[key]);
  const at = (key: "expiresAt" | "createdAt" | "updatedAt") => rows.map((r) => iso(r[key]));
  w.add(
    `insert into "Consent" (id, "organizationId", "subscriberId", "campaignId", status, method,
                            "disclosureVersionId", "lastSequence", "expiresAt", "hadConsented",
                            "createdAt", "updatedAt")
     select c.id, ${w.$(organizationId)}::uuid, c.subscriber, c.campaign, c.status::"ConsentStatus",
            c.method::"ConsentMethod", c.disclosure, c.sequence, c.expires::timestamp(3), c.had,
            c.created::timestamp(3), c.updated::timestamp(3)
     from unnest(${w.$(col("id"))}::uuid[], ${w.$(col("subscriberId"))}::uuid[],
                 ${w.$(col("campaignId"))}::uuid[], ${w.$(col("status"))}::text[],
                 ${w.$(col("method"))}::text[], ${w.$(col("disclosureVersionId"))}::uuid[],
                 ${w.$(col("lastSequence"))}::int[], ${w.$(at("expiresAt"))}::text[],
                 ${w.$(col("hadConsented"))}::boolean[], ${w.$(at("createdAt"))}::text[],
                 ${w.$(at("updatedAt"))}::text[])
       as c(id, subscriber, campaign, status, method, disclosure, sequence, expires, had, created,
            updated)
     on conflict (id) do update set
       status = excluded.status, method = excluded.method, "hadConsented" = excluded."hadConsented",
       "disclosureVersionId" = excluded."disclosureVersionId",
       "lastSequence" = excluded."lastSequence", "expiresAt" = excluded."expiresAt",
       "updatedAt" = excluded."updatedAt"`,
  );
}

/** A ledger event to insert, with its evidence as the exact JSON text its hash covers. */
export type EventRow = ConsentEvent & { evidenceText: string };

function events(w: Parts, organizationId: string, rows: readonly EventRow[]) {
  if (rows.length === 0) return;
  const col = <K extends keyof EventRow>(key: K) => rows.map((r) => r[key]);
  w.add(
    `insert into "ConsentEvent" (id, "organizationId", sequence, "subscriberId", "campaignId",
                                 "consentId", "fromStatus", "toStatus", method, "occurredAt",
                                 "recordedAt", evidence, "disclosureVersionId", "apiKeyId",
                                 "keywordEventId", "prevHash", hash)
     select e.id, ${w.$(organizationId)}::uuid, e.sequence, e.subscriber, e.campaign, e.consent,
            e.from_status::"ConsentStatus", e.to_status::"ConsentStatus", e.method::"ConsentMethod",
            e.occurred::timestamp(3), e.recorded::timestamp(3), e.evidence::jsonb, e.disclosure,
            e.api_key, e.keyword_event, e.prev, e.hash
     from unnest(${w.$(col("id"))}::uuid[], ${w.$(col("sequence"))}::int[],
                 ${w.$(col("subscriberId"))}::uuid[], ${w.$(col("campaignId"))}::uuid[],
                 ${w.$(col("consentId"))}::uuid[], ${w.$(col("fromStatus"))}::text[],
                 ${w.$(col("toStatus"))}::text[], ${w.$(col("method"))}::text[],
                 ${w.$(rows.map((e) => e.occurredAt.toISOString()))}::text[],
                 ${w.$(rows.map((e) => e.recordedAt.toISOString()))}::text[],
                 ${w.$(col("evidenceText"))}::text[], ${w.$(col("disclosureVersionId"))}::uuid[],
                 ${w.$(col("apiKeyId"))}::uuid[], ${w.$(col("keywordEventId"))}::uuid[],
                 ${w.$(col("prevHash"))}::text[], ${w.$(col("hash"))}::text[])
       as e(id, sequence, subscriber, campaign, consent, from_status, to_status, method, occurred,
            recorded, evidence, disclosure, api_key, keyword_event, prev, hash)
     order by e.sequence`,
  );
}

/** What a keyed request answered, stored under its idempotency key. */
export interface IdempotencyRow {
  key: string;
  operation: string;
  hash: string;
  result: string;
}

function idempotencyRecords(
  w: Parts,
  organizationId: string,
  createdAt: Date,
  rows: readonly IdempotencyRow[],
) {
  if (rows.length === 0) return;
  w.add(
    `insert into "IdempotencyRecord" ("organizationId", key, operation, "requestHash", result, "createdAt")
     select ${w.$(organizationId)}::uuid, r.key, r.operation, r.hash, r.result::jsonb,
            ${w.$(createdAt.toISOString())}::timestamp(3)
     from unnest(${w.$(rows.map((r) => r.key))}::text[], ${w.$(rows.map((r) => r.operation))}::text[],
                 ${w.$(rows.map((r) => r.hash))}::text[], ${w.$(rows.map((r) => r.result))}::text[])
       as r(key, operation, hash, result)`,
  );
}

/** The organization's ledger head after the batch. */
export interface LedgerHead {
  ledgerSequence: number;
  ledgerHeadHash: string;
  keywordSequence: number;
}

/** Everything one batch writes. */
export interface BatchRows {
  organizationId: string;
  recordedAt: Date;
  keywordEvents: readonly KeywordEvent[];
  reviewDecisions: readonly ReviewDecisionRow[];
  consents: readonly Consent[];
  events: readonly EventRow[];
  idempotencyRecords: readonly IdempotencyRow[];
  /** the head to move to: set when the batch wrote events or messages */
  head: LedgerHead | null;
}

/**
 * Writes a batch's rows and moves its ledger head, in one statement (none when there is nothing).
 * The statement is sent before this returns.
 */
export async function writeBatch(sql: SqlQuery, rows: BatchRows): Promise<void> {
  const { organizationId } = rows;
  const w = new Parts();
  keywordEvents(w, organizationId, rows.keywordEvents);
  reviewDecisions(w, rows.reviewDecisions);
  consents(w, organizationId, rows.consents);
  events(w, organizationId, rows.events);
  idempotencyRecords(w, organizationId, rows.recordedAt, rows.idempotencyRecords);
  const { head } = rows;
  const main = head
    ? `update "Organization" set "ledgerSequence" = ${w.$(head.ledgerSequence)},
              "ledgerHeadHash" = ${w.$(head.ledgerHeadHash)},
              "keywordSequence" = ${w.$(head.keywordSequence)}
       where id = ${w.$(organizationId)}::uuid`
    : w.parts.pop();
  if (main === undefined) return;
  const withParts = w.parts.map((part, i) => `w${i} as (${part})`);
  await sql(withParts.length > 0 ? `with ${withParts.join(",\n")}\n${main}` : main, w.values);
}
