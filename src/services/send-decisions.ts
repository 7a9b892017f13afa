// canSend and canSendMany: the campaign and every phone's subscriber and consent come from the
// in-memory send cache (send-cache.ts) when it can vouch for them, else from ONE SQL statement,
// whatever the batch size; quiet hours then need only the numbers' regions, which are cached by
// prefix. Both sources give the pure rule (src/domain/send-decision.ts) the same inputs.
import type { Actor } from "../domain/api-key.ts";
import type { CampaignPurpose, CampaignStatus } from "../domain/campaign.ts";
import type { ConsentMethod, ConsentStatus } from "../domain/consent.ts";
import { badInput, notFound } from "../domain/errors.ts";
import { knownRecipientRegion, recipientRegion } from "../domain/number-region.ts";
import { normalizePhone } from "../domain/phone.ts";
import { decideSend, needsRegion, type SendDecisionReason } from "../domain/send-decision.ts";
import { mayTouchCampaign } from "../domain/api-key.ts";
import { countSendDecisions } from "./consent-metrics.ts";
import type { Runtime } from "./runtime.ts";
import type { SendInputs } from "./send-cache.ts";

export const MAX_BATCH = 10_000;

/** the region of a decision that does not depend on where the recipient is */
const NOWHERE = { zones: [], states: [] };

interface LookupRow {
  ord: bigint | number;
  campaignStatus: CampaignStatus | null;
  campaignPurpose: CampaignPurpose | null;
  timezone: string | null;
  state: string | null;
  id: string | null;
  organizationId: string | null;
  subscriberId: string | null;
  campaignId: string | null;
  status: ConsentStatus | null;
  method: ConsentMethod | null;
  disclosureVersionId: string | null;
  lastSequence: number | null;
  expiresAt: Date | null;
  hadConsented: boolean | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

export interface ConsentRow {
  id: string;
  organizationId: string;
  subscriberId: string;
  campaignId: string;
  status: ConsentStatus;
  method: ConsentMethod;
  disclosureVersionId: string | null;
  lastSequence: number;
  expiresAt: Date | null;
  hadConsented: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface SendDecision {
  phone: string;
  allowed: boolean;
  reason: SendDecisionReason;
  consent: ConsentRow | null;
  nextAllowedAt: Date | null;
}

function checkAt(at: Date | null | undefined): Date {
  if (!at) return new Date();
  if (Number.isNaN(at.getTime())) throw badInput("at", "is not a date");
  return at;
}

export async function canSendMany(
  runtime: Runtime,
  actor: Actor,
  phones: readonly string[],
  campaignId: string,
  at?: Date | null,
): Promise<SendDecision[]> {
  if (phones.length > MAX_BATCH) {
    throw badInput("phones", `at most ${MAX_BATCH} phones per call, got ${phones.length}`);
  }
  const region = runtime.config.defaultRegion;
  const normalized = phones.map((phone, i) => normalizePhone(phone, region, `phones[${i}]`));
  return decide(runtime, actor, normalized, campaignId, checkAt(at));
}

export async function canSend(
  runtime: Runtime,
  actor: Actor,
  phone: string,
  campaignId: string,
  at?: Date | null,
) {
  const normalized = normalizePhone(phone, runtime.config.defaultRegion, "phone");
  const [decision] = await decide(runtime, actor, [normalized], campaignId, checkAt(at));
  return decision;
}

/** The campaign and each phone's subscriber and consent, in input order. */
const lookup = (phones: string) => `
  with campaign as (
    select id, status, purpose from "Campaign" where id = $1::uuid and "organizationId" = $2::uuid
  )
  select p.ord, k.status::text as "campaignStatus", k.purpose::text as "campaignPurpose", s.timezone, s.state,
         c.id, c."organizationId", c."subscriberId", c."campaignId", c.status::text as status,
         c.method::text as method, c."disclosureVersionId", c."lastSequence",
         c."expiresAt", c."hadConsented", c."createdAt", c."updatedAt"
  from ${phones} as p(phone, ord)
  left join campaign k on true
  left join "Subscriber" s on s."organizationId" = $2::uuid and s.phone = p.phone
  left join "Consent" c on c."subscriberId" = s.id and c."campaignId" = k.id
  order by p.ord`;
/** a batch: unnamed, so each run gets a plan for its own array */
const LOOKUP_MANY = lookup("unnest($3::text[]) with ordinality");
/** one number (canSend): a named prepared statement, whose generic plan is the custom one */
const LOOKUP_ONE = lookup("(values ($3::text, 1))");

/** The campaign and each phone's consent and stored time zone, read from the database. */
async function readInputs(
  runtime: Runtime,
  actor: Actor,
  phones: readonly string[],
  campaignId: string,
): Promise<SendInputs> {
  const one = phones.length === 1;
  const values = [campaignId, actor.organizationId, one ? phones[0] : phones];
  const text = one ? LOOKUP_ONE : LOOKUP_MANY;
  const rows = await runtime.prepared<LookupRow>(
    text,
    values,
    one ? "optgraph_can_send" : undefined,
  );

  if (phones.length > 0 && rows[0]?.campaignStatus == null) throw notFound("campaign", campaignId);
  if (phones.length === 0) {
    const exists = await runtime.prisma.campaign.count({
      where: { id: campaignId, organizationId: actor.organizationId },
    });
    if (!exists) throw notFound("campaign", campaignId);
    // no number to decide: the campaign's facts are not consulted
    return { campaign: { status: "DRAFT", purpose: "MARKETING" }, entries: [] };
  }
  const campaign = { status: rows[0].campaignStatus!, purpose: rows[0].campaignPurpose! };
  const entries = rows.map((row) => {
    const consent: ConsentRow | null = row.id
      ? {
          id: row.id,
          organizationId: row.organizationId!,
          subscriberId: row.subscriberId!,
          campaignId: row.campaignId!,
          status: row.status!,
          method: row.method!,
          disclosureVersionId: row.disclosureVersionId,
          lastSequence: row.lastSequence!,
          expiresAt: row.expiresAt,
          hadConsented: row.hadConsented!,
          createdAt: row.createdAt!,
          updatedAt: row.updatedAt!,
        }
      : null;
    return { consent, timezone: row.timezone, state: row.state };
  });
  return { campaign, entries };
}

async function decide(
  runtime: Runtime,
  actor: Actor,
  phones: readonly string[],
  campaignId: string,
  at: Date,
): Promise<SendDecision[]> {
  // the cache holds the actor's organization only, and the key's campaign scope applies first
  if (!mayTouchCampaign(actor, campaignId)) throw notFound("campaign", campaignId);
  const { campaign, entries } =
    runtime.sendCache.inputs(actor.organizationId, campaignId, phones) ??
    (await readInputs(runtime, actor, phones, campaignId));
  // regions are known by prefix after a number's first lookup: only unknown prefixes are awaited,
  // together, not a promise per number
  const regions = entries.map(({ consent, timezone, state }, i) =>
    needsRegion({ campaign, consent, at })
      ? (knownRecipientRegion(phones[i], { timeZone: timezone, state }) ?? null)
      : NOWHERE,
  );
  const unknown = regions.flatMap((region, i) => (region === null ? [i] : []));
  if (unknown.length > 0) {
    await Promise.all(
      unknown.map(async (i) => {
        const { timezone, state } = entries[i];
        regions[i] = await recipientRegion(phones[i], { timeZone: timezone, state });
      }),
    );
  }
  const decisions = new Array<SendDecision>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const consent = entries[i].consent;
    const verdict = decideSend({ campaign, consent, at, region: regions[i]! });
    decisions[i] = {
      phone: phones[i],
      allowed: verdict.allowed,
      reason: verdict.reason,
      nextAllowedAt: verdict.nextAllowedAt,
      consent,
    };
  }
  countSendDecisions(decisions);
  return decisions;
}
