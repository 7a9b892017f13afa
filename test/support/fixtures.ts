// Valid inputs and one-call set-ups (a sender, a campaign) for tests that need them as a backdrop.
import { randomInt } from "node:crypto";
import type { CampaignPurpose, DisclosuresInput } from "../generated/graphql.ts";
import { ActivateCampaign, CreateCampaign, CreateSender } from "./documents.ts";
import { ok } from "./graphql.ts";

export const disclosures = (programName = "Acme Deals"): DisclosuresInput => ({
  programName,
  messageFrequency: "Up to 4 msgs/month",
  termsUrl: "https://acme.example/terms",
  privacyUrl: "https://acme.example/privacy",
  helpText: `${programName}: help at support@acme.example or 800-555-0100.`,
  optInConfirmation: `${programName}: you're in! Up to 4 msgs/month. Msg & data rates may apply. Reply HELP for help, STOP to cancel.`,
  optOutConfirmation: `${programName}: you're unsubscribed and will get no more messages. Reply START to rejoin.`,
  consentLanguage:
    `By entering your number you agree to receive recurring marketing texts from ${programName} ` +
    "at the number provided. Consent is not a condition of purchase. Up to 4 msgs/month. " +
    "Msg & data rates may apply. Reply HELP for help and STOP to cancel. " +
    "Terms: https://acme.example/terms Privacy: https://acme.example/privacy",
});

/**
 * A US long code no other test uses (webhooks and inbound messages find senders by address). Random
 * numbers collided once a run created a few thousand senders, so each test process counts: its
 * vitest pool id picks the exchange's first digit (one per worker sharing a database) and a counter
 * kept on globalThis (test files share the process) the rest, from a random start.
 */
const counter = globalThis as { optgraphLongCodes?: number };
export const uniqueLongCode = () => {
  counter.optgraphLongCodes ??= randomInt(0, 5_000_000);
  const n = counter.optgraphLongCodes++ % 10_000_000;
  const worker = Number(process.env.VITEST_POOL_ID ?? process.pid) % 8;
  const area = ["415", "628", "650", "510", "408", "212", "646", "312", "617", "206"][
    Math.floor(n / 1_000_000)
  ];
  return `+1${area}${2 + worker}${String(n % 1_000_000).padStart(6, "0")}`;
};

export async function createSender(key: string, address = uniqueLongCode()) {
  const data = await ok(key, CreateSender, { input: { address, kind: "LONG_CODE" } });
  const { id, address: created } = data.createSender.sender;
  return { id, address: created };
}

export interface CampaignOptions {
  name?: string;
  purpose?: CampaignPurpose;
  senderId?: string;
  keywords?: string[];
  doubleOptIn?: boolean;
  active?: boolean;
}

/** A campaign (ACTIVE unless told otherwise) on a new sender or the one given. */
export async function createCampaign(key: string, options: CampaignOptions = {}) {
  const senderId = options.senderId ?? (await createSender(key)).id;
  const data = await ok(key, CreateCampaign, {
    input: {
      name: options.name ?? `Campaign ${randomInt(1_000_000_000)}`,
      purpose: options.purpose ?? "MARKETING",
      senderId,
      keywords: options.keywords ?? [],
      doubleOptIn: options.doubleOptIn ?? false,
      disclosures: disclosures(),
    },
  });
  const { id, name } = data.createCampaign.campaign;
  if (options.active !== false) await ok(key, ActivateCampaign, { id });
  return { id, name, senderId };
}
