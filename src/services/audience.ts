// The audience of a campaign at a given time: its OPTED_IN subscribers that canSendMany allows
// then. Candidates are read in pages by subscriber id (keyset pagination, so a page costs the same
// wherever it starts) and each page is decided by canSendMany itself: an export and the send
// decision cannot disagree.
import type { Actor } from "../domain/api-key.ts";
import { canSendMany, MAX_BATCH, type SendDecision } from "./send-decisions.ts";
import type { Runtime } from "./runtime.ts";

/** Candidates per canSendMany call. */
export const AUDIENCE_PAGE = 500;
const BEFORE_EVERY_ID = "00000000-0000-0000-0000-000000000000";

export interface AudienceMember {
  subscriberId: string;
  decision: SendDecision;
}

export interface AudiencePage {
  /** the allowed candidates of this page, by subscriber id */
  members: AudienceMember[];
  /** the last candidate read: where the next page starts; null when none are left */
  next: string | null;
}

/**
 * Reads up to `limit` candidates after subscriber `after` and keeps those canSendMany allows at
 * `at`. An unknown campaign (or one the actor may not see) is NOT_FOUND, as in canSendMany.
 */
export async function audiencePage(
  runtime: Runtime,
  actor: Actor,
  campaignId: string,
  at: Date,
  after: string | null,
  limit = AUDIENCE_PAGE,
): Promise<AudiencePage> {
  const size = Math.min(Math.max(limit, 1), MAX_BATCH);
  const candidates = await runtime.prisma.$queryRaw<{ id: string; phone: string }[]>`
    select c."subscriberId" as id, s.phone
    from "Consent" c join "Subscriber" s on s.id = c."subscriberId"
    where c."campaignId" = ${campaignId}::uuid and c."organizationId" = ${actor.organizationId}::uuid
      and c.status = 'OPTED_IN' and c."subscriberId" > ${after ?? BEFORE_EVERY_ID}::uuid
    order by c."subscriberId"
    limit ${size + 1}`;
  const page = candidates.slice(0, size);
  const decisions = await canSendMany(
    runtime,
    actor,
    page.map((c) => c.phone),
    campaignId,
    at,
  );
  return {
    members: decisions.flatMap((decision, i) =>
      decision.allowed ? [{ subscriberId: page[i].id, decision }] : [],
    ),
    next: candidates.length > size ? page[page.length - 1].id : null,
  };
}
