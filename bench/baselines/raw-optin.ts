// Baseline for optIn: one raw transaction per opt-in writing the same rows optgraph writes — lock
// the organization's ledger head, read the campaign and its current disclosure, upsert the
// subscriber and the consent, insert the ledger event (sha256 hash chain, the same canonical
// form) and move the head. Fresh numbers, spread over several organizations. Driven over IPC.
import { randomUUID } from "node:crypto";
import { eventHash, type LedgerFacts } from "../../src/domain/ledger.ts";
import { serve } from "../lib/ipc.ts";
import { phoneNumber } from "../lib/phones.ts";
import { closedLoop, type Budget } from "../lib/stats.ts";
import { closeOnSignal, openRawDb } from "./db.ts";

const db = await openRawDb();
closeOnSignal(() => db.close());

interface Target {
  organizationId: string;
  campaignId: string;
}

interface RunPayload {
  budget: Budget;
  concurrency: number;
  targets: Target[];
  areaCode: string;
}

let next = 0;

const EVIDENCE = {
  ip: "203.0.113.7",
  userAgent: "Mozilla/5.0 (bench)",
  pageUrl: "https://acme.example/join",
};

async function optIn(target: Target, phone: string) {
  await db.transaction(async (tx) => {
    const [head] = await tx.query<{ ledgerSequence: number; ledgerHeadHash: string }>(
      `select "ledgerSequence", "ledgerHeadHash" from "Organization" where id = $1::uuid for update`,
      [target.organizationId],
    );
    if (!head) throw new Error("no organization");
    const [campaign] = await tx.query<{
      status: string;
      disclosureId: string;
      version: number;
      consentLanguageHash: string;
    }>(
      `select k.status::text as status, d.id as "disclosureId", d.version, d."consentLanguageHash"
       from "Campaign" k
       join lateral (
         select id, version, "consentLanguageHash" from "DisclosureVersion"
         where "campaignId" = k.id order by version desc limit 1
       ) d on true
       where k.id = $1::uuid and k."organizationId" = $2::uuid`,
      [target.campaignId, target.organizationId],
    );
    if (!campaign || campaign.status === "ARCHIVED") throw new Error("no campaign");
    const [subscriber] = await tx.query<{ id: string }>(
      `insert into "Subscriber" (id, "organizationId", phone) values ($1::uuid, $2::uuid, $3)
       on conflict ("organizationId", phone) do update set phone = excluded.phone
       returning id`,
      [randomUUID(), target.organizationId, phone],
    );
    const now = new Date();
    const sequence = head.ledgerSequence + 1;
    const [consent] = await tx.query<{ id: string }>(
      `insert into "Consent" (id, "organizationId", "subscriberId", "campaignId", status, method,
                              "disclosureVersionId", "lastSequence", "expiresAt", "updatedAt")
       values ($1::uuid, $2::uuid, $3::uuid, $4::uuid, 'OPTED_IN', 'WEB_FORM', $5::uuid, $6, null, $7)
       on conflict ("subscriberId", "campaignId") do update set
         status = excluded.status, method = excluded.method,
         "disclosureVersionId" = excluded."disclosureVersionId",
         "lastSequence" = excluded."lastSequence", "expiresAt" = null, "updatedAt" = excluded."updatedAt"
       returning id`,
      [
        randomUUID(),
        target.organizationId,
        subscriber.id,
        target.campaignId,
        campaign.disclosureId,
        sequence,
        now.toISOString(),
      ],
    );
    const facts: LedgerFacts = {
      organizationId: target.organizationId,
      sequence,
      subscriberId: subscriber.id,
      campaignId: target.campaignId,
      consentId: consent.id,
      fromStatus: null,
      toStatus: "OPTED_IN",
      method: "WEB_FORM",
      occurredAt: now,
      recordedAt: now,
      evidence: {
        ...EVIDENCE,
        consentLanguage: { version: campaign.version, sha256: campaign.consentLanguageHash },
      },
      disclosureVersionId: campaign.disclosureId,
      apiKeyId: null,
      keywordEventId: null,
    };
    const hash = eventHash(head.ledgerHeadHash, facts);
    await tx.query(
      `insert into "ConsentEvent" (id, "organizationId", sequence, "subscriberId", "campaignId",
         "consentId", "fromStatus", "toStatus", method, "occurredAt", "recordedAt", evidence,
         "disclosureVersionId", "apiKeyId", "keywordEventId", "prevHash", hash)
       values ($1::uuid, $2::uuid, $3, $4::uuid, $5::uuid, $6::uuid, null, 'OPTED_IN', 'WEB_FORM',
               $7, $7, $8::jsonb, $9::uuid, null, null, $10, $11)`,
      [
        randomUUID(),
        target.organizationId,
        sequence,
        subscriber.id,
        target.campaignId,
        consent.id,
        now.toISOString(),
        JSON.stringify(facts.evidence),
        campaign.disclosureId,
        head.ledgerHeadHash,
        hash,
      ],
    );
    await tx.query(
      `update "Organization" set "ledgerSequence" = $2, "ledgerHeadHash" = $3 where id = $1::uuid`,
      [target.organizationId, sequence, hash],
    );
  });
}

serve({
  run: ({ budget, concurrency, targets, areaCode }: RunPayload) =>
    closedLoop(concurrency, budget, () => {
      const n = next++;
      return optIn(targets[n % targets.length], phoneNumber(areaCode, n));
    }),
});
