// Baseline for canSendMany: the raw SQL lookup (campaign + every phone's subscriber and consent,
// one statement, the same shape as optgraph's) for the same keys, straight through the driver,
// one call at a time. Driven by the harness over IPC.
import { serve } from "../lib/ipc.ts";
import { closedLoop, type Budget } from "../lib/stats.ts";
import { closeOnSignal, openRawDb } from "./db.ts";

const db = await openRawDb();
closeOnSignal(() => db.close());

const BATCH_LOOKUP = `
  with campaign as (
    select id, status, purpose from "Campaign" where id = $1::uuid and "organizationId" = $2::uuid
  )
  select p.ord, k.status::text as "campaignStatus", k.purpose::text as "campaignPurpose", s.timezone,
         c.id, c."organizationId", c."subscriberId", c."campaignId", c.status::text as status,
         c.method::text as method, c."disclosureVersionId", c."lastSequence", c."expiresAt",
         c."createdAt", c."updatedAt"
  from unnest($3::text[]) with ordinality as p(phone, ord)
  left join campaign k on true
  left join "Subscriber" s on s."organizationId" = $2::uuid and s.phone = p.phone
  left join "Consent" c on c."subscriberId" = s.id and c."campaignId" = k.id
  order by p.ord`;

interface RunPayload {
  budget: Budget;
  concurrency: number;
  organizationId: string;
  campaignId: string;
  phones: string[];
}

serve({
  run: ({ budget, concurrency, organizationId, campaignId, phones }: RunPayload) =>
    closedLoop(concurrency, budget, async () => {
      const rows = await db.query(BATCH_LOOKUP, [campaignId, organizationId, phones]);
      if (rows.length !== phones.length) {
        throw new Error(`expected ${phones.length} rows, got ${rows.length}`);
      }
    }),
});
