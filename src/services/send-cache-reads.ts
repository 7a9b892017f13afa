// The send cache's reads (send-cache.ts): the heads of the organizations it holds, an
// organization's consents page by page, the consents that ledger events after a cursor touched,
// and an organization's campaigns. Each is tagged, so a statement counter tells them from a
// request's.
import type { CampaignPurpose, CampaignStatus } from "../domain/campaign.ts";
import type { PreparedRead } from "../db/client.ts";
import { ConsentSnapshot, type HeldRow } from "./consent-snapshot.ts";

/** Marks the cache's own reads (tests and the bench tell them from a decision's). */
export const SEND_CACHE_SQL_TAG = "/* send-cache */";

/** Rows per page of an organization's load. */
const LOAD_PAGE = 10_000;

export interface CampaignFacts {
  status: CampaignStatus;
  purpose: CampaignPurpose;
}

/** What the cache must hold to be current for an organization. */
export interface Head {
  id: string;
  ledgerSequence: number;
  campaignRevision: number;
  subscriberRevision: number;
}

const CONSENT_COLUMNS = `s.phone, s.id::text as "subscriberId", s.timezone, s.state, c.id::text as id,
  c."campaignId"::text as "campaignId", c.status::text as status, c.method::text as method,
  c."disclosureVersionId"::text as "disclosureVersionId", c."lastSequence",
  (extract(epoch from c."expiresAt") * 1000)::float8 as "expiresAt", c."hadConsented",
  (extract(epoch from c."createdAt") * 1000)::float8 as "createdAt",
  (extract(epoch from c."updatedAt") * 1000)::float8 as "updatedAt"`;

const HEADS = `${SEND_CACHE_SQL_TAG} select id::text as id, "ledgerSequence", "campaignRevision",
  "subscriberRevision" from "Organization" where id = any($1::uuid[])`;

const LOAD_PAGE_SQL = `${SEND_CACHE_SQL_TAG} select ${CONSENT_COLUMNS}
  from "Subscriber" s join "Consent" c on c."subscriberId" = s.id
  where s."organizationId" = $1::uuid and (s.phone, c."campaignId") > ($2::text, $3::uuid)
  order by s.phone, c."campaignId" limit $4`;

const CHANGES_SQL = `${SEND_CACHE_SQL_TAG} select ${CONSENT_COLUMNS}
  from "Consent" c join "Subscriber" s on s.id = c."subscriberId"
  where c.id in (select e."consentId" from "ConsentEvent" e
                 where e."organizationId" = $1::uuid and e.sequence > $2 and e.sequence <= $3)`;

const CAMPAIGNS_SQL = `${SEND_CACHE_SQL_TAG} select id::text as id, status::text as status,
  purpose::text as purpose from "Campaign" where "organizationId" = $1::uuid`;

const NO_CAMPAIGN = "00000000-0000-0000-0000-000000000000";

export const readHeads = (read: PreparedRead, organizationIds: string[]) =>
  read<Head>(HEADS, [organizationIds]);

/** The consents the organization's ledger events in (after, upTo] touched, as they are now. */
export const readChanges = (
  read: PreparedRead,
  organizationId: string,
  after: number,
  upTo: number,
) => read<HeldRow>(CHANGES_SQL, [organizationId, after, upTo]);

export async function readCampaigns(
  read: PreparedRead,
  organizationId: string,
): Promise<Map<string, CampaignFacts>> {
  const rows = await read<CampaignFacts & { id: string }>(CAMPAIGNS_SQL, [organizationId]);
  return new Map(rows.map((r) => [r.id, { status: r.status, purpose: r.purpose }]));
}

/** The organization's consents, page by page; null once more than `max`. */
export async function loadSnapshot(
  read: PreparedRead,
  organizationId: string,
  max: number,
): Promise<ConsentSnapshot | null> {
  const snapshot = new ConsentSnapshot(organizationId);
  let after = { phone: "", campaignId: NO_CAMPAIGN };
  for (;;) {
    const rows = await read<HeldRow>(LOAD_PAGE_SQL, [
      organizationId,
      after.phone,
      after.campaignId,
      LOAD_PAGE,
    ]);
    for (const row of rows) snapshot.put(row);
    if (snapshot.size > max) return null;
    if (rows.length < LOAD_PAGE) return snapshot;
    after = rows[rows.length - 1];
  }
}
