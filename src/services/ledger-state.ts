// What the decider needs, read set-wise for a whole batch of commands inside the ledger writer's
// transaction: the idempotency records and provider message ids seen before, the campaigns the
// commands may reach (with every disclosure version), the subscribers' ids, and their consents with
// the facts of each consent's last event. Each is a query of its own, and `readTogether` runs them
// as one statement: a transaction that holds the organization's ledger lock spends as few round
// trips as it can. A fixed number of statements per batch, whatever its size.
import { newId } from "../db/ids.ts";
import type { SqlQuery } from "../db/client.ts";
import type { CampaignStatus } from "../domain/campaign.ts";
import type { ConsentMethod, ConsentStatus } from "../domain/consent.ts";
import type {
  CampaignFacts,
  ConsentFacts,
  DisclosureFacts,
  ReviewFacts,
} from "../domain/decider.ts";

/** One read: a select (placeholders $1, $2…), its values, and what its rows mean. */
export interface StateQuery<T> {
  /** null when there is nothing to read (the rows are then none) */
  text: string | null;
  values: unknown[];
  parse(rows: unknown[]): T;
}

type Results<Q> = { [K in keyof Q]: Q[K] extends StateQuery<infer T> ? T : never };

/**
 * Runs several reads as one statement, each select's rows coming back as a JSON array, and parses
 * each. The selects see one snapshot, taken when the statement starts.
 */
export async function readTogether<Q extends Record<string, StateQuery<unknown>>>(
  sql: SqlQuery,
  queries: Q,
): Promise<Results<Q>> {
  const names = Object.keys(queries);
  const values: unknown[] = [];
  const columns: string[] = [];
  names.forEach((name, i) => {
    const { text } = queries[name];
    if (text === null) return;
    const offset = values.length;
    values.push(...queries[name].values);
    const renumbered = text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    columns.push(`(select coalesce(json_agg(r), '[]'::json) from (${renumbered}) r) as r${i}`);
  });
  const [row] =
    columns.length === 0
      ? [{}]
      : await sql<Record<string, unknown[]>>(`select ${columns.join(",\n       ")}`, values);
  return Object.fromEntries(
    names.map((name, i) => [
      name,
      queries[name].parse((row as Record<string, unknown[]>)[`r${i}`] ?? []),
    ]),
  ) as Results<Q>;
}

/** Which campaigns a batch may reach: named ones, whole senders, or all of the organization. */
export interface CampaignReach {
  all: boolean;
  campaignIds: Set<string>;
  senderIds: Set<string>;
  /** campaigns whose whole sender is reached (SENDER scope named by a campaign) */
  sendersOfCampaigns: Set<string>;
}

export const emptyReach = (): CampaignReach => ({
  all: false,
  campaignIds: new Set(),
  senderIds: new Set(),
  sendersOfCampaigns: new Set(),
});

/** What a keyed request answered the first time (the writer stores it; see ledger-batch.ts). */
export interface IdempotencyRecordRow {
  operation: string;
  requestHash: string;
  result: {
    consentIds: string[];
    eventIds: string[];
    changed: boolean;
    confirmationMessage: string | null;
  };
}

/** The first results of these idempotency keys, by key (those used before). */
export function idempotencyRecordsQuery(
  organizationId: string,
  keys: readonly string[],
): StateQuery<Map<string, IdempotencyRecordRow>> {
  return {
    text:
      keys.length === 0
        ? null
        : `select key, operation, "requestHash", result from "IdempotencyRecord"
           where "organizationId" = $1::uuid and key = any($2::text[])`,
    values: [organizationId, keys],
    parse: (rows) =>
      new Map((rows as (IdempotencyRecordRow & { key: string })[]).map((row) => [row.key, row])),
  };
}

/** An inbound message recorded before under a provider's message id. */
export interface SeenMessage {
  id: string;
  from: string;
  to: string;
  body: string;
}

/** The messages recorded under these provider message ids, by id (those seen before). */
export function seenMessagesQuery(
  organizationId: string,
  providerMessageIds: readonly string[],
): StateQuery<Map<string, SeenMessage>> {
  return {
    text:
      providerMessageIds.length === 0
        ? null
        : `select id::text as id, "providerMessageId", "from", "to", body from "KeywordEvent"
           where "organizationId" = $1::uuid and "providerMessageId" = any($2::text[])`,
    values: [organizationId, providerMessageIds],
    parse: (rows) =>
      new Map(
        (rows as (SeenMessage & { providerMessageId: string })[]).map((row) => [
          row.providerMessageId,
          row,
        ]),
      ),
  };
}

/** A UTC timestamp as Postgres writes it inside JSON ("2026-12-06T08:00:00.123"). */
const utc = (text: string) => new Date(text.endsWith("Z") ? text : `${text}Z`);

interface CampaignRow {
  id: string;
  name: string;
  senderId: string;
  status: CampaignStatus;
  doubleOptIn: boolean;
  keywords: string[];
  disclosures: (Omit<DisclosureFacts, "createdAt"> & { createdAt: string })[] | null;
}

/** The campaigns `reach` names, with every disclosure version. */
export function campaignsQuery(
  organizationId: string,
  reach: CampaignReach,
): StateQuery<CampaignFacts[]> {
  const none =
    !reach.all &&
    reach.campaignIds.size === 0 &&
    reach.senderIds.size === 0 &&
    reach.sendersOfCampaigns.size === 0;
  return {
    text: none
      ? null
      : `select c.id::text as id, c.name, c."senderId"::text as "senderId",
                c.status::text as status, c."doubleOptIn", c.keywords,
                (select json_agg(json_build_object(
                          'id', d.id, 'version', d.version,
                          'consentLanguageHash', d."consentLanguageHash",
                          'createdAt', d."createdAt", 'programName', d."programName",
                          'messageFrequency', d."messageFrequency", 'helpText', d."helpText",
                          'optInConfirmation', d."optInConfirmation",
                          'optOutConfirmation', d."optOutConfirmation",
                          'translations', d.translations) order by d.version)
                 from "DisclosureVersion" d where d."campaignId" = c.id) as disclosures
         from "Campaign" c
         where c."organizationId" = $1::uuid
           and ($2::boolean or c.id = any($3::uuid[]) or c."senderId" = any($4::uuid[])
                or c."senderId" in (select s."senderId" from "Campaign" s
                                    where s."organizationId" = $1::uuid and s.id = any($5::uuid[])))
         order by c.id`,
    values: [
      organizationId,
      reach.all,
      [...reach.campaignIds],
      [...reach.senderIds],
      [...reach.sendersOfCampaigns],
    ],
    parse: (rows) =>
      (rows as CampaignRow[])
        // by id, as the select orders them (an aggregate is not bound to keep that order)
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((row) => ({
          ...row,
          disclosures: (row.disclosures ?? []).map((d) => ({ ...d, createdAt: utc(d.createdAt) })),
        })),
  };
}

/** The organization's subscriber ids of these numbers (those that exist), by number. */
export function subscribersQuery(
  organizationId: string,
  phones: readonly string[],
): StateQuery<Map<string, string>> {
  return {
    text:
      phones.length === 0
        ? null
        : `select id::text as id, phone from "Subscriber"
           where "organizationId" = $1::uuid and phone = any($2::text[])`,
    values: [organizationId, phones],
    parse: (rows) => new Map((rows as { id: string; phone: string }[]).map((r) => [r.phone, r.id])),
  };
}

/** Runs one read as a statement of its own (none when there is nothing to read). */
export async function readOne<T>(sql: SqlQuery, query: StateQuery<T>): Promise<T> {
  return query.parse(query.text === null ? [] : await sql(query.text, query.values));
}

/**
 * The organization's subscriber ids for these numbers, creating the missing ones. Needs no ledger
 * lock (a subscriber is only a number; it changes no consent), so an import creates a batch's
 * subscribers while the batch before it is being applied.
 */
export async function upsertSubscribers(
  sql: SqlQuery,
  organizationId: string,
  phones: readonly string[],
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
  for (const [phone, id] of await readOne(sql, subscribersQuery(organizationId, missing))) {
    ids.set(phone, id);
  }
  return ids;
}

/** A consent as stored, beside the facts the decider reads. */
export interface ConsentRecord {
  facts: ConsentFacts;
  subscriberId: string;
  method: ConsentMethod;
  hadConsented: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface ConsentRow {
  id: string;
  subscriberId: string;
  campaignId: string;
  status: ConsentStatus;
  method: ConsentMethod;
  hadConsented: boolean;
  lastSequence: number;
  disclosureVersionId: string | null;
  expiresAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  lastFromStatus: ConsentStatus | null;
  lastMethod: ConsentMethod;
  lastOccurredAtMs: number;
}

/**
 * Every consent of these subscribers (by id, or by number in the organization), by subscriber id,
 * each with its last event's facts. PENDING and EXPIRED consents still need the last settled answer
 * before them: `settle` reads it.
 */
export function consentsQuery(
  organizationId: string,
  subscriberIds: readonly string[],
  phones: readonly string[],
): StateQuery<Map<string, ConsentRecord[]>> {
  return {
    text:
      subscriberIds.length === 0 && phones.length === 0
        ? null
        : // timestamps as epoch milliseconds: no driver's idea of a time zone in between
          `select c.id::text as id, c."subscriberId"::text as "subscriberId",
                  c."campaignId"::text as "campaignId", c.status::text as status,
                  c.method::text as method, c."hadConsented", c."lastSequence",
                  c."disclosureVersionId"::text as "disclosureVersionId",
                  (extract(epoch from c."expiresAt") * 1000)::float8 as "expiresAtMs",
                  (extract(epoch from c."createdAt") * 1000)::float8 as "createdAtMs",
                  (extract(epoch from c."updatedAt") * 1000)::float8 as "updatedAtMs",
                  e."fromStatus"::text as "lastFromStatus", e.method::text as "lastMethod",
                  (extract(epoch from e."occurredAt") * 1000)::float8 as "lastOccurredAtMs"
           -- the consents of the known subscribers, then those of the numbers, each an index probe
           -- the planner sizes from the arrays themselves (one array built by a subquery hid its
           -- length: on stale statistics that planned a parallel scan per batch, docs/BENCHMARKS.md)
           from (select * from "Consent" where "subscriberId" = any($2::uuid[])
                 union all
                 select c.* from "Subscriber" s join "Consent" c on c."subscriberId" = s.id
                 where s."organizationId" = $1::uuid and s.phone = any($3::text[])
                   and s.id <> all($2::uuid[])) c
           -- one index probe per consent (the limit keeps the lateral a per-row probe: a join the
           -- planner may hash would scan the whole ledger)
           join lateral (select x."fromStatus", x.method, x."occurredAt" from "ConsentEvent" x
                         where x."organizationId" = c."organizationId"
                           and x.sequence = c."lastSequence" limit 1) e on true`,
    values: [organizationId, subscriberIds, phones],
    parse: (rows) => {
      const bySubscriber = new Map<string, ConsentRecord[]>();
      for (const row of rows as ConsentRow[]) {
        const record: ConsentRecord = {
          subscriberId: row.subscriberId,
          method: row.method,
          hadConsented: row.hadConsented,
          createdAt: new Date(row.createdAtMs),
          updatedAt: new Date(row.updatedAtMs),
          facts: {
            id: row.id,
            campaignId: row.campaignId,
            status: row.status,
            lastSequence: row.lastSequence,
            lastOccurredAt: new Date(row.lastOccurredAtMs),
            lastFromStatus: row.lastFromStatus,
            lastMethod: row.lastMethod,
            settled: row.status === "OPTED_IN" || row.status === "OPTED_OUT" ? row.status : null,
            disclosureVersionId: row.disclosureVersionId,
            expiresAt: row.expiresAtMs === null ? null : new Date(row.expiresAtMs),
          },
        };
        const list = bySubscriber.get(row.subscriberId);
        if (list) list.push(record);
        else bySubscriber.set(row.subscriberId, [record]);
      }
      return bySubscriber;
    },
  };
}

/**
 * PENDING and EXPIRED stand on the last settled answer before them: reads it for those (one
 * statement when there are any).
 */
export async function settle(sql: SqlQuery, bySubscriber: ReadonlyMap<string, ConsentRecord[]>) {
  const unsettled = [...bySubscriber.values()].flat().filter((r) => r.facts.settled === null);
  if (unsettled.length === 0) return;
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
    [unsettled.map((r) => r.subscriberId), unsettled.map((r) => r.facts.campaignId)],
  );
  const byPair = new Map(settled.map((r) => [`${r.subscriberId} ${r.campaignId}`, r.toStatus]));
  for (const r of unsettled) {
    r.facts.settled = byPair.get(`${r.subscriberId} ${r.facts.campaignId}`) ?? null;
  }
}

/** The messages these review commands name (those of the organization), by id. */
export async function readReviews(
  sql: SqlQuery,
  organizationId: string,
  keywordEventIds: readonly string[],
): Promise<Map<string, ReviewFacts>> {
  if (keywordEventIds.length === 0) return new Map();
  const rows = await sql<
    Omit<ReviewFacts, "reviewDueAt"> & {
      reviewDueAtMs: number | null;
    }
  >(
    `select k.id::text as "keywordEventId", k."senderId"::text as "senderId",
            k.review::text as review, k."heldIntent"::text as "heldIntent",
            k."campaignIds"::text[] as "campaignIds",
            case when a.role = 'PARTNER' then a."campaignIds"::text[] end as "receivedScope",
            (extract(epoch from k."reviewDueAt") * 1000)::float8 as "reviewDueAtMs",
            k."reviewDecision" is not null as decided,
            coalesce((select json_agg(json_build_object(
                               'campaignId', e."campaignId", 'sequence', e.sequence,
                               'fromStatus', e."fromStatus", 'toStatus', e."toStatus")
                             order by e.sequence)
                      from "ConsentEvent" e where e."keywordEventId" = k.id), '[]'::json) as caused
     from "KeywordEvent" k left join "ApiKey" a on a.id = k."apiKeyId"
     where k."organizationId" = $1::uuid and k.id = any($2::uuid[])`,
    [organizationId, keywordEventIds],
  );
  return new Map(
    rows.map(({ reviewDueAtMs, ...row }) => [
      row.keywordEventId,
      { ...row, reviewDueAt: reviewDueAtMs === null ? null : new Date(reviewDueAtMs) },
    ]),
  );
}
