// "May we text this number for this campaign right now?" Consent is decided first (it is what a
// sender must never get wrong), then the campaign's status, then quiet hours for marketing.
import type { CampaignPurpose, CampaignStatus } from "./campaign.ts";
import type { ConsentStatus } from "./consent.ts";
import { nextSendingInstant, type RecipientRegion } from "./quiet-hours.ts";

export type SendDecisionReason =
  | "ALLOWED"
  | "NO_CONSENT"
  | "PENDING_CONFIRMATION"
  | "OPTED_OUT"
  | "CAMPAIGN_NOT_ACTIVE"
  | "QUIET_HOURS";

export interface SendFacts {
  campaign: { status: CampaignStatus; purpose: CampaignPurpose };
  consent: { status: ConsentStatus; expiresAt: Date | null } | null;
  /** where the recipient may be; only consulted for marketing campaigns */
  region: RecipientRegion;
  at: Date;
}

export interface SendVerdict {
  allowed: boolean;
  reason: SendDecisionReason;
  /** for QUIET_HOURS: the first instant the send would be allowed */
  nextAllowedAt: Date | null;
}

const deny = (reason: SendDecisionReason): SendVerdict => ({
  allowed: false,
  reason,
  nextAllowedAt: null,
});

export function decideSend(facts: SendFacts): SendVerdict {
  const consent = facts.consent;
  if (!consent || consent.status === "EXPIRED") return deny("NO_CONSENT");
  if (consent.status === "OPTED_OUT") return deny("OPTED_OUT");
  if (consent.status === "PENDING") {
    const lapsed = consent.expiresAt !== null && consent.expiresAt.getTime() <= facts.at.getTime();
    return deny(lapsed ? "NO_CONSENT" : "PENDING_CONFIRMATION");
  }
  if (facts.campaign.status !== "ACTIVE") return deny("CAMPAIGN_NOT_ACTIVE");
  if (facts.campaign.purpose === "MARKETING") {
    const next = nextSendingInstant(facts.at, facts.region);
    if (next === null || next.getTime() !== facts.at.getTime()) {
      return { allowed: false, reason: "QUIET_HOURS", nextAllowedAt: next };
    }
  }
  return { allowed: true, reason: "ALLOWED", nextAllowedAt: null };
}

/** Whether a decision needs the recipient's region at all (saves the lookup when it does not). */
export function needsRegion(facts: Omit<SendFacts, "region">): boolean {
  return (
    facts.campaign.purpose === "MARKETING" &&
    facts.campaign.status === "ACTIVE" &&
    facts.consent?.status === "OPTED_IN"
  );
}
