// Applying a batch of import records set-wise, inside a transaction holding the organization's
// ledger lock. The rules are the opt-in and opt-out steps' (consents.ts: optInWithin and
// optOutWithin with method IMPORT, source INTEGRATION, scope CAMPAIGN), walked record by record in
// memory over the batch's consents as the database holds them, so a record sees what the records
// before it changed. The database sees a fixed number of statements per batch, whatever its size:
// subscribers upserted, consents read, consents upserted, ledger events inserted (hash-chained
// here, in sequence order), the ledger head moved. test/import/apply.test.ts checks that both ways
// of applying the same records write the same consents and the same ledger events.
import type { SqlQuery } from "../db/client.ts";
import { newId } from "../db/ids.ts";
import { nextStatus, optInIsConfirmed, type ConsentStatus } from "../domain/consent.ts";
import { conflict, notFound } from "../domain/errors.ts";
import type { ImportRecord } from "../domain/import-row.ts";
import { eventHash, type LedgerFacts } from "../domain/ledger.ts";
import type { LedgerHead } from "./ledger.ts";

export interface ImportItem {
  row: number;
  record: ImportRecord;
  /** the database id of the record's campaign (of the organization) */
  campaignId: string;
}

export interface ImportBatchContext {
  organizationId: string;
  importJobId: string;
  fileName: string;
  apiKeyId: string | null;
  /** when the batch is written: every event's recordedAt */
  recordedAt: Date;
  pendingTtlMs: number;
  /** subscriber ids by number, made before the batch (upsertSubscribers); the rest are made here */
  subscribers?: ReadonlyMap<string, string>;
}

export interface ImportBatchResult<T extends ImportItem> {
  /** every record that was applied, with the event it wrote or null when it changed nothing */
  applied: { item: T; eventId: string | null }[];
  /** records a rule refused, with the reason; they wrote nothing */
  refused: { item: T; reason: string }[];
}

interface CampaignFacts {
  id: string;
  name: string;
  status: string;
  doubleOptIn: boolean;
  disclosure: { id: string; version: number; consentLanguageHash: string };
}

/** One subscriber's consent for one campaign, as the batch has left it so far. */
interface PairState {
  subscriberId: string;
  campaignId: string;
  consentId: string | null;
  status: ConsentStatus | null;
  /** toStatus of the pair's last OPTED_IN or OPTED_OUT event; undefined until read */
  settled: ConsentStatus | null | undefined;
  lastSequence: number;
  /** occurredAt of the event at lastSequence; undefined until read */
  lastOccurredAt: Date | undefined;
  disclosureVersionId: string | null;
  expiresAt: Date | null;
  changed: boolean;
}

const pairKey = (subscriberId: string, campaignId: string) => `${subscriberId} ${campaignId}`;
const iso = (date: Date | null) => (date ? date.toISOString() : null);

async function campaignsOf(sql: SqlQuery, organizationId: string, ids: string[]) {
  const rows = await sql<{
    id: string;
    name: string;
    status: string;
    doubleOptIn: boolean;
    disclosureId: string;
    version: number;
    consentLanguageHash: string;
  }>(
    `select c.id::text, c.name, c.status::text as status, c."doubleOptIn",
            d.id::text as "disclosureId", d.version, d."consentLanguageHash"
     from "Campaign" c
     join lateral (
       select id, version, "consentLanguageHash" from "DisclosureVersion"
       where "campaignId" = c.id order by version desc limit 1) d on true
     where c."organizationId" = $1::uuid and c.id = any($2::uuid[])`,
    [organizationId, ids],
  );
  return new Map<string, CampaignFacts>(
    rows.map(({ disclosureId, version, consentLanguageHash, ...campaign }) => [
      campaign.id,
      { ...campaign, disclosure: { id: disclosureId, version, consentLanguageHash } },
    ]),
  );
}

/**
 * The organization's subscriber ids for these numbers, creating the missing ones. Needs no ledger
 * lock (a subscriber is only a number; it changes no consent), so an import creates a batch's
 * subscribers while the batch before it is being applied.
 */
export async function upsertSubscribers(
  sql: SqlQuery,
  organizationId: string,
  phones: string[],
  createdAt: Date,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (phones.length === 0) return ids;
  const rows = await sql<{ id: string; phone: string }>(
    `with input as (select * from unnest($2::uuid[], $3::text[]) as i(id, phone)),
     created as (
       insert into "Subscriber" (id, "organizationId", phone, "createdAt")
       select id, $1::uuid, phone, $4::timestamp(3) from input
       on conflict ("organizationId", phone) do nothing
       returning id, phone)
     select id::text, phone from created
     union all
     select s.id::text, s.phone from "Subscriber" s join input i on s.phone = i.phone
     where s."organizationId" = $1::uuid`,
    [organizationId, phones.map(() => newId()), phones, createdAt.toISOString()],
  );
  for (const row of rows) ids.set(row.phone, row.id);
  // A number another transaction created after this statement's snapshot: read it again.
  const missing = phones.filter((phone) => !ids.has(phone));
  if (missing.length > 0) {
    const late = await sql<{ id: string; phone: string }>(
      `select id::text, phone from "Subscriber"
       where "organizationId" = $1::uuid and phone = any($2::text[])`,
      [organizationId, missing],
    );
    for (const row of late) ids.set(row.phone, row.id);
  }
  return ids;
}

/** The consents of these (subscriber, campaign) pairs, with what the rules need of their past. */
async function pairStates(sql: SqlQuery, organizationId: string, pairs: Map<string, PairState>) {
  const keys = [...pairs.values()];
  if (keys.length === 0) return;
  const consents = await sql<{
    id: string;
    subscriberId: string;
    campaignId: string;
    status: ConsentStatus;
    lastSequence: number;
    disclosureVersionId: string | null;
    expiresAtMs: number | null;
  }>(
    `select c.id::text, c."subscriberId"::text as "subscriberId", c."campaignId"::text as "campaignId",
            c.status::text as status, c."lastSequence", c."disclosureVersionId"::text as "disclosureVersionId",
            (extract(epoch from c."expiresAt") * 1000)::float8 as "expiresAtMs"
     from "Consent" c
     join unnest($1::uuid[], $2::uuid[]) as k(subscriber, campaign)
       on c."subscriberId" = k.subscriber and c."campaignId" = k.campaign`,
    [keys.map((p) => p.subscriberId), keys.map((p) => p.campaignId)],
  );
  const unsettled: PairState[] = [];
  const optedOut: PairState[] = [];
  for (const consent of consents) {
    const state = pairs.get(pairKey(consent.subscriberId, consent.campaignId))!;
    state.consentId = consent.id;
    state.status = consent.status;
    state.lastSequence = consent.lastSequence;
    state.disclosureVersionId = consent.disclosureVersionId;
    state.expiresAt = consent.expiresAtMs === null ? null : new Date(consent.expiresAtMs);
    // A settled status is its own last settled event's; PENDING and EXPIRED stand on an older one.
    if (consent.status === "OPTED_IN" || consent.status === "OPTED_OUT") {
      state.settled = consent.status;
    } else {
      unsettled.push(state);
    }
    if (consent.status === "OPTED_OUT") optedOut.push(state);
  }
  if (optedOut.length > 0) {
    // When each opt-out happened: an opt-in older than it changes nothing.
    // (timestamps as epoch milliseconds: no driver's idea of a time zone in between)
    const events = await sql<{ sequence: number; occurredAtMs: number }>(
      `select sequence, (extract(epoch from "occurredAt") * 1000)::float8 as "occurredAtMs"
       from "ConsentEvent" where "organizationId" = $1::uuid and sequence = any($2::int[])`,
      [organizationId, optedOut.map((s) => s.lastSequence)],
    );
    const at = new Map(events.map((e) => [e.sequence, new Date(e.occurredAtMs)]));
    for (const state of optedOut) state.lastOccurredAt = at.get(state.lastSequence);
  }
  if (unsettled.length > 0) {
    const settled = await sql<{
      subscriberId: string;
      campaignId: string;
      toStatus: ConsentStatus;
    }>(
      `select distinct on (e."subscriberId", e."campaignId")
              e."subscriberId"::text as "subscriberId", e."campaignId"::text as "campaignId",
              e."toStatus"::text as "toStatus"
       from "ConsentEvent" e
       join unnest($1::uuid[], $2::uuid[]) as k(subscriber, campaign)
         on e."subscriberId" = k.subscriber and e."campaignId" = k.campaign
       where e."toStatus" in ('OPTED_IN', 'OPTED_OUT')
       order by e."subscriberId", e."campaignId", e.sequence desc`,
      [unsettled.map((s) => s.subscriberId), unsettled.map((s) => s.campaignId)],
    );
    for (const state of unsettled) state.settled = null;
    for (const row of settled) {
      pairs.get(pairKey(row.subscriberId, row.campaignId))!.settled = row.toStatus;
    }
  }
}

interface EventRow extends LedgerFacts {
  id: string;
  prevHash: string;
  hash: string;
}

async function insertConsents(sql: SqlQuery, ctx: ImportBatchContext, states: PairState[]) {
  if (states.length === 0) return;
  await sql(
    `insert into "Consent" (id, "organizationId", "subscriberId", "campaignId", status, method,
                            "disclosureVersionId", "lastSequence", "expiresAt", "createdAt", "updatedAt")
     select c.id, $1::uuid, c.subscriber, c.campaign, c.status::"ConsentStatus", 'IMPORT',
            c.disclosure, c.sequence, c.expires::timestamp(3), $2::timestamp(3), $2::timestamp(3)
     from unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::uuid[], $8::int[], $9::text[])
       as c(id, subscriber, campaign, status, disclosure, sequence, expires)
     on conflict ("subscriberId", "campaignId") do update set
       status = excluded.status, method = excluded.method,
       "disclosureVersionId" = excluded."disclosureVersionId",
       "lastSequence" = excluded."lastSequence", "expiresAt" = excluded."expiresAt",
       "updatedAt" = excluded."updatedAt"`,
    [
      ctx.organizationId,
      ctx.recordedAt.toISOString(),
      states.map((s) => s.consentId),
      states.map((s) => s.subscriberId),
      states.map((s) => s.campaignId),
      states.map((s) => s.status),
      states.map((s) => s.disclosureVersionId),
      states.map((s) => s.lastSequence),
      states.map((s) => iso(s.expiresAt)),
    ],
  );
}

async function insertEvents(sql: SqlQuery, ctx: ImportBatchContext, events: EventRow[]) {
  if (events.length === 0) return;
  await sql(
    `insert into "ConsentEvent" (id, "organizationId", sequence, "subscriberId", "campaignId",
                                 "consentId", "fromStatus", "toStatus", method, "occurredAt",
                                 "recordedAt", evidence, "disclosureVersionId", "apiKeyId",
                                 "prevHash", hash)
     select e.id, $1::uuid, e.sequence, e.subscriber, e.campaign, e.consent,
            e.from_status::"ConsentStatus", e.to_status::"ConsentStatus", 'IMPORT',
            e.occurred::timestamp(3), $2::timestamp(3), e.evidence::jsonb, e.disclosure,
            $3::uuid, e.prev, e.hash
     from unnest($4::uuid[], $5::int[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::text[],
                 $11::text[], $12::text[], $13::uuid[], $14::text[], $15::text[])
       as e(id, sequence, subscriber, campaign, consent, from_status, to_status, occurred,
            evidence, disclosure, prev, hash)
     order by e.sequence`,
    [
      ctx.organizationId,
      ctx.recordedAt.toISOString(),
      ctx.apiKeyId,
      events.map((e) => e.id),
      events.map((e) => e.sequence),
      events.map((e) => e.subscriberId),
      events.map((e) => e.campaignId),
      events.map((e) => e.consentId),
      events.map((e) => e.fromStatus),
      events.map((e) => e.toStatus),
      events.map((e) => e.occurredAt.toISOString()),
      events.map((e) => JSON.stringify(e.evidence)),
      events.map((e) => e.disclosureVersionId),
      events.map((e) => e.prevHash),
      events.map((e) => e.hash),
    ],
  );
}

/**
 * Applies records, in the order given (the import's apply order), after the locked head, and
 * moves the head. A record a rule refuses (an opt-in to an archived campaign, a campaign that no
 * longer exists) writes nothing and is returned with its reason; the others are applied.
 */
export async function applyImportBatch<T extends ImportItem>(
  sql: SqlQuery,
  head: LedgerHead,
  ctx: ImportBatchContext,
  items: readonly T[],
): Promise<ImportBatchResult<T>> {
  const result: ImportBatchResult<T> = { applied: [], refused: [] };
  if (items.length === 0) return result;
  const campaigns = await campaignsOf(sql, ctx.organizationId, [
    ...new Set(items.map((item) => item.campaignId)),
  ]);

  // The rules refuse these before they touch anything (optInWithin checks the campaign first).
  const accepted: { item: T; campaign: CampaignFacts }[] = [];
  for (const item of items) {
    const campaign = campaigns.get(item.campaignId);
    if (!campaign) {
      result.refused.push({ item, reason: notFound("campaign", item.campaignId).message });
    } else if (item.record.status === "OPTED_IN" && campaign.status === "ARCHIVED") {
      const reason = conflict(`Campaign "${campaign.name}" is archived and takes no opt-ins.`);
      result.refused.push({ item, reason: reason.message });
    } else {
      accepted.push({ item, campaign });
    }
  }
  if (accepted.length === 0) return result;

  const subscribers = new Map(ctx.subscribers);
  const missing = [...new Set(accepted.map(({ item }) => item.record.phone))].filter(
    (phone) => !subscribers.has(phone),
  );
  for (const [phone, id] of await upsertSubscribers(
    sql,
    ctx.organizationId,
    missing,
    ctx.recordedAt,
  )) {
    subscribers.set(phone, id);
  }
  const pairs = new Map<string, PairState>();
  const stateOf = (item: T) => {
    const subscriberId = subscribers.get(item.record.phone)!;
    const key = pairKey(subscriberId, item.campaignId);
    let state = pairs.get(key);
    if (!state) {
      state = {
        subscriberId,
        campaignId: item.campaignId,
        consentId: null,
        status: null,
        settled: null,
        lastSequence: 0,
        lastOccurredAt: undefined,
        disclosureVersionId: null,
        expiresAt: null,
        changed: false,
      };
      pairs.set(key, state);
    }
    return state;
  };
  for (const { item } of accepted) stateOf(item);
  await pairStates(sql, ctx.organizationId, pairs);

  const events: (LedgerFacts & { id: string })[] = [];
  for (const { item, campaign } of accepted) {
    const { record } = item;
    const state = stateOf(item);
    const evidence = {
      source: { file: ctx.fileName, row: item.row, importJobId: ctx.importJobId },
      originalMethod: record.method,
      ...record.evidence,
    };
    let change: {
      to: ConsentStatus;
      disclosureVersionId: string | null;
      expiresAt: Date | null;
      evidence: unknown;
    } | null = null;
    if (record.status === "OPTED_IN") {
      let basis = state.status;
      if ((basis === "PENDING" || basis === "EXPIRED") && state.settled === "OPTED_OUT") {
        basis = "OPTED_OUT";
      }
      let to = nextStatus(state.status, {
        kind: "OPT_IN",
        confirmed: optInIsConfirmed("INTEGRATION", campaign.doubleOptIn, basis),
      });
      if (
        to &&
        state.status === "OPTED_OUT" &&
        state.lastOccurredAt &&
        record.occurredAt.getTime() < state.lastOccurredAt.getTime()
      ) {
        to = null;
      }
      if (to) {
        const { disclosure } = campaign;
        change = {
          to,
          disclosureVersionId: disclosure.id,
          expiresAt:
            to === "PENDING" ? new Date(ctx.recordedAt.getTime() + ctx.pendingTtlMs) : null,
          evidence: {
            ...evidence,
            consentLanguage: {
              version: disclosure.version,
              sha256: disclosure.consentLanguageHash,
            },
          },
        };
      }
    } else if (state.status !== null || campaign.status !== "ARCHIVED") {
      // (a campaign that never had this number and no longer runs needs no suppression record)
      const to = nextStatus(state.status, { kind: "OPT_OUT" });
      if (to) {
        change = {
          to,
          disclosureVersionId: state.disclosureVersionId,
          expiresAt: null,
          evidence: { ...evidence, scope: "CAMPAIGN" },
        };
      }
    }
    if (!change) {
      result.applied.push({ item, eventId: null });
      continue;
    }

    state.consentId ??= newId();
    const facts: LedgerFacts = {
      organizationId: ctx.organizationId,
      sequence: head.sequence + events.length + 1,
      subscriberId: state.subscriberId,
      campaignId: state.campaignId,
      consentId: state.consentId,
      fromStatus: state.status,
      toStatus: change.to,
      method: "IMPORT",
      occurredAt: record.occurredAt,
      recordedAt: ctx.recordedAt,
      evidence: change.evidence,
      disclosureVersionId: change.disclosureVersionId,
      apiKeyId: ctx.apiKeyId,
      keywordEventId: null,
    };
    const event = { ...facts, id: newId() };
    events.push(event);

    state.status = change.to;
    state.lastSequence = facts.sequence;
    state.lastOccurredAt = record.occurredAt;
    if (change.to === "OPTED_IN" || change.to === "OPTED_OUT") state.settled = change.to;
    if (change.disclosureVersionId) state.disclosureVersionId = change.disclosureVersionId;
    state.expiresAt = change.expiresAt;
    state.changed = true;
    result.applied.push({ item, eventId: event.id });
  }
  if (events.length === 0) return result;

  // Consents first: the events reference them. The database writes them while the events are
  // hashed here (setImmediate lets the statement go out first).
  const consentsWritten = Promise.resolve(
    insertConsents(
      sql,
      ctx,
      [...pairs.values()].filter((state) => state.changed),
    ),
  );
  consentsWritten.catch(() => undefined); // awaited below
  await new Promise((resolve) => setImmediate(resolve));
  const chained: EventRow[] = [];
  let prevHash = head.hash;
  for (const event of events) {
    const hash = eventHash(prevHash, event);
    chained.push({ ...event, prevHash, hash });
    prevHash = hash;
  }
  await consentsWritten;
  await insertEvents(sql, ctx, chained);
  head.sequence += events.length;
  head.hash = prevHash;
  await sql(
    `update "Organization" set "ledgerSequence" = $2, "ledgerHeadHash" = $3 where id = $1::uuid`,
    [ctx.organizationId, head.sequence, head.hash],
  );
  return result;
}
