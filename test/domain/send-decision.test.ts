// The send decision: consent first, then the campaign, then quiet hours for marketing only.
import { describe, expect, it } from "vitest";
import { decideSend, needsRegion, type SendFacts } from "../../src/domain/send-decision.ts";

const night = new Date("2026-11-28T07:00:00Z"); // 23:00 in Los Angeles
const noon = new Date("2026-11-27T20:00:00Z"); // 12:00 in Los Angeles
const region = { zones: ["America/Los_Angeles"], states: [] };

const base = (overrides: Partial<SendFacts> = {}): SendFacts => ({
  campaign: { status: "ACTIVE", purpose: "MARKETING" },
  consent: { status: "OPTED_IN", expiresAt: null },
  region,
  at: noon,
  ...overrides,
});

describe("send decision", () => {
  it.each([
    ["opted in, active, daytime", base(), true, "ALLOWED"],
    ["no consent", base({ consent: null }), false, "NO_CONSENT"],
    ["expired", base({ consent: { status: "EXPIRED", expiresAt: null } }), false, "NO_CONSENT"],
    [
      "pending",
      base({ consent: { status: "PENDING", expiresAt: new Date("2026-12-01T00:00:00Z") } }),
      false,
      "PENDING_CONFIRMATION",
    ],
    [
      "pending past its window",
      base({ consent: { status: "PENDING", expiresAt: new Date("2026-11-01T00:00:00Z") } }),
      false,
      "NO_CONSENT",
    ],
    ["opted out", base({ consent: { status: "OPTED_OUT", expiresAt: null } }), false, "OPTED_OUT"],
    [
      "opted out beats a paused campaign",
      base({
        consent: { status: "OPTED_OUT", expiresAt: null },
        campaign: { status: "PAUSED", purpose: "MARKETING" },
      }),
      false,
      "OPTED_OUT",
    ],
    [
      "paused campaign",
      base({ campaign: { status: "PAUSED", purpose: "MARKETING" } }),
      false,
      "CAMPAIGN_NOT_ACTIVE",
    ],
    [
      "draft campaign",
      base({ campaign: { status: "DRAFT", purpose: "MARKETING" } }),
      false,
      "CAMPAIGN_NOT_ACTIVE",
    ],
    ["marketing at night", base({ at: night }), false, "QUIET_HOURS"],
    [
      "informational at night",
      base({ at: night, campaign: { status: "ACTIVE", purpose: "INFORMATIONAL" } }),
      true,
      "ALLOWED",
    ],
    [
      "transactional at night",
      base({ at: night, campaign: { status: "ACTIVE", purpose: "TRANSACTIONAL" } }),
      true,
      "ALLOWED",
    ],
  ])("%s", (_name, facts, allowed, reason) => {
    const verdict = decideSend(facts);
    expect(verdict.allowed).toBe(allowed);
    expect(verdict.reason).toBe(reason);
  });

  it("gives the next allowed instant only for quiet hours", () => {
    expect(decideSend(base({ at: night })).nextAllowedAt?.toISOString()).toBe(
      "2026-11-28T16:00:00.000Z",
    );
    expect(decideSend(base({ consent: null })).nextAllowedAt).toBeNull();
  });

  it("looks up the region only when quiet hours can decide", () => {
    expect(needsRegion(base())).toBe(true);
    expect(needsRegion(base({ consent: null }))).toBe(false);
    expect(needsRegion(base({ campaign: { status: "ACTIVE", purpose: "INFORMATIONAL" } }))).toBe(
      false,
    );
  });
});
