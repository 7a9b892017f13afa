// The ledger writer's statements: a batch's inbound messages, consents, events and idempotency
// records, each written with one statement whatever the batch's size. Only ledger-batch.ts calls
// them.
import type { SqlQuery } from "../db/client.ts";
import type { Consent, ConsentEvent, KeywordEvent } from "../generated/prisma/client.ts";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export async function insertKeywordEvents(sql: SqlQuery, rows: KeywordEvent[]) {
  if (rows.length === 0) return;
  await sql(
    `insert into "KeywordEvent" (id, "organizationId", sequence, "senderId", "from", "to", body,
                                 "providerMessageId", keyword, intent, "needsReview", "campaignIds",
                                 reply, "repliedAt", "receivedAt", "recordedAt", "apiKeyId",
                                 review, "heldIntent", "reviewDueAt")
     select k.id, $1::uuid, k.sequence, k.sender, k.sender_from, k.sender_to, k.body, k.provider_id,
            k.keyword, k.intent::"KeywordIntent", k.review, k.campaigns::uuid[], k.reply,
            k.replied::timestamp(3), k.received::timestamp(3), k.recorded::timestamp(3), k.api_key,
            k.review_mark::"KeywordReview", k.held_intent::"KeywordIntent", k.due::timestamp(3)
     from unnest($2::uuid[], $3::int[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::boolean[], $12::text[], $13::text[], $14::text[],
                 $15::text[], $16::text[], $17::uuid[], $18::text[], $19::text[], $20::text[])
       as k(id, sequence, sender, sender_from, sender_to, body, provider_id, keyword, intent, review,
            campaigns, reply, replied, received, recorded, api_key, review_mark, held_intent, due)`,
    [
      rows[0].organizationId,
      rows.map((r) => r.id),
      rows.map((r) => r.sequence),
      rows.map((r) => r.senderId),
      rows.map((r) => r.from),
      rows.map((r) => r.to),
      rows.map((r) => r.body),
      rows.map((r) => r.providerMessageId),
      rows.map((r) => r.keyword),
      rows.map((r) => r.intent),
      rows.map((r) => r.needsReview),
      rows.map((r) => `{${r.campaignIds.join(",")}}`),
      rows.map((r) => r.reply),
      rows.map((r) => iso(r.repliedAt)),
      rows.map((r) => iso(r.receivedAt)),
      rows.map((r) => iso(r.recordedAt)),
      rows.map((r) => r.apiKeyId),
      rows.map((r) => r.review),
      rows.map((r) => r.heldIntent),
      rows.map((r) => iso(r.reviewDueAt)),
    ],
  );
}

/**
 * Records review decisions on their messages. A message already decided keeps its decision: the
 * writer refuses a second one before it gets here, and the condition keeps it so regardless.
 */
export async function recordReviewDecisions(
  sql: SqlQuery,
  rows: readonly {
    keywordEventId: string;
    decision: string;
    note: string | null;
    atDeadline: boolean;
    apiKeyId: string | null;
    decidedAt: Date;
  }[],
) {
  if (rows.length === 0) return;
  await sql(
    `update "KeywordEvent" k set "reviewDecision" = r.decision::"ReviewDecision",
            "reviewNote" = r.note, "reviewedAt" = r.decided::timestamp(3),
            "reviewedByApiKeyId" = r.api_key, "reviewedAtDeadline" = r.deadline
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::boolean[])
       as r(id, decision, note, decided, api_key, deadline)
     where k.id = r.id and k."reviewDecision" is null`,
    [
      rows.map((r) => r.keywordEventId),
      rows.map((r) => r.decision),
      rows.map((r) => r.note),
      rows.map((r) => r.decidedAt.toISOString()),
      rows.map((r) => r.apiKeyId),
      rows.map((r) => r.atDeadline),
    ],
  );
}

export async function upsertConsents(sql: SqlQuery, rows: Consent[]) {
  if (rows.length === 0) return;
  await sql(
    `insert into "Consent" (id, "organizationId", "subscriberId", "campaignId", status, method,
                            "disclosureVersionId", "lastSequence", "expiresAt", "hadConsented",
                            "createdAt", "updatedAt")
     select c.id, $1::uuid, c.subscriber, c.campaign, c.status::"ConsentStatus",
            c.method::"ConsentMethod", c.disclosure, c.sequence, c.expires::timestamp(3), c.had,
            c.created::timestamp(3), c.updated::timestamp(3)
     from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::uuid[], $8::int[],
                 $9::text[], $10::boolean[], $11::text[], $12::text[])
       as c(id, subscriber, campaign, status, method, disclosure, sequence, expires, had, created,
            updated)
     on conflict (id) do update set
       status = excluded.status, method = excluded.method, "hadConsented" = excluded."hadConsented",
       "disclosureVersionId" = excluded."disclosureVersionId",
       "lastSequence" = excluded."lastSequence", "expiresAt" = excluded."expiresAt",
       "updatedAt" = excluded."updatedAt"`,
    [
      rows[0].organizationId,
      rows.map((r) => r.id),
      rows.map((r) => r.subscriberId),
      rows.map((r) => r.campaignId),
      rows.map((r) => r.status),
      rows.map((r) => r.method),
      rows.map((r) => r.disclosureVersionId),
      rows.map((r) => r.lastSequence),
      rows.map((r) => iso(r.expiresAt)),
      rows.map((r) => r.hadConsented),
      rows.map((r) => iso(r.createdAt)),
      rows.map((r) => iso(r.updatedAt)),
    ],
  );
}

export async function insertEvents(
  sql: SqlQuery,
  rows: (ConsentEvent & { evidenceText: string })[],
) {
  if (rows.length === 0) return;
  await sql(
    `insert into "ConsentEvent" (id, "organizationId", sequence, "subscriberId", "campaignId",
                                 "consentId", "fromStatus", "toStatus", method, "occurredAt",
                                 "recordedAt", evidence, "disclosureVersionId", "apiKeyId",
                                 "keywordEventId", "prevHash", hash)
     select e.id, $1::uuid, e.sequence, e.subscriber, e.campaign, e.consent,
            e.from_status::"ConsentStatus", e.to_status::"ConsentStatus", e.method::"ConsentMethod",
            e.occurred::timestamp(3), e.recorded::timestamp(3), e.evidence::jsonb, e.disclosure,
            e.api_key, e.keyword_event, e.prev, e.hash
     from unnest($2::uuid[], $3::int[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[],
                 $9::text[], $10::text[], $11::text[], $12::text[], $13::uuid[], $14::uuid[],
                 $15::uuid[], $16::text[], $17::text[])
       as e(id, sequence, subscriber, campaign, consent, from_status, to_status, method, occurred,
            recorded, evidence, disclosure, api_key, keyword_event, prev, hash)
     order by e.sequence`,
    [
      rows[0].organizationId,
      rows.map((e) => e.id),
      rows.map((e) => e.sequence),
      rows.map((e) => e.subscriberId),
      rows.map((e) => e.campaignId),
      rows.map((e) => e.consentId),
      rows.map((e) => e.fromStatus),
      rows.map((e) => e.toStatus),
      rows.map((e) => e.method),
      rows.map((e) => e.occurredAt.toISOString()),
      rows.map((e) => e.recordedAt.toISOString()),
      rows.map((e) => e.evidenceText),
      rows.map((e) => e.disclosureVersionId),
      rows.map((e) => e.apiKeyId),
      rows.map((e) => e.keywordEventId),
      rows.map((e) => e.prevHash),
      rows.map((e) => e.hash),
    ],
  );
}

export async function insertIdempotencyRecords(
  sql: SqlQuery,
  organizationId: string,
  createdAt: Date,
  rows: readonly { key: string; operation: string; hash: string; result: string }[],
) {
  if (rows.length === 0) return;
  await sql(
    `insert into "IdempotencyRecord" ("organizationId", key, operation, "requestHash", result, "createdAt")
     select $1::uuid, r.key, r.operation, r.hash, r.result::jsonb, $2::timestamp(3)
     from unnest($3::text[], $4::text[], $5::text[], $6::text[]) as r(key, operation, hash, result)`,
    [
      organizationId,
      createdAt.toISOString(),
      rows.map((r) => r.key),
      rows.map((r) => r.operation),
      rows.map((r) => r.hash),
      rows.map((r) => r.result),
    ],
  );
}
