// The data a run needs, made through optgraph's own API so it is valid by construction:
// organizations (each with its ADMIN key, one sender and one ACTIVE marketing campaign with the
// disclosures the tests use) and opted-in subscribers for the read paths.
import { decodeGlobalID } from "@pothos/plugin-relay";
import type { BenchConfig } from "./config.ts";
import { eachLimited, gql, PLATFORM_KEY } from "./optgraph.ts";
import { AREA, phoneNumber, seededPhone } from "./phones.ts";

export interface OrgSetup {
  name: string;
  /** global ID and database id */
  id: string;
  rowId: string;
  key: string;
  senderAddress: string;
  campaignId: string;
  campaignRowId: string;
}

export interface World {
  /** the organization the read paths ask about */
  read: OrgSetup;
  /** canSendMany's batch (and canSend's rotation): opted-in numbers and never-seen ones, mixed */
  readPhones: string[];
  optIn: { optgraph: OrgSetup[]; baseline: OrgSetup[] };
  fanOut: OrgSetup;
  webhook: OrgSetup[];
}

/** Valid campaign disclosures (as in test/support/fixtures.ts). */
export const disclosures = (programName: string) => ({
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

export const OPT_IN = /* GraphQL */ `
  mutation BenchOptIn($input: OptInInput!) {
    optIn(input: $input) {
      changed
      consent {
        id
        status
      }
      event {
        sequence
      }
    }
  }
`;

export const EVIDENCE = {
  ip: "203.0.113.7",
  userAgent: "Mozilla/5.0 (bench)",
  pageUrl: "https://acme.example/join",
};

let senders = 0;

async function createOrg(url: string, name: string): Promise<OrgSetup> {
  const org = await gql(
    url,
    PLATFORM_KEY,
    `mutation ($name: String!) {
      createOrganization(input: { name: $name }) { organization { id } secret }
    }`,
    { name },
  );
  const key: string = org.createOrganization.secret;
  const senderAddress = phoneNumber(AREA.senders, senders++);
  const sender = await gql(
    url,
    key,
    `mutation ($input: CreateSenderInput!) { createSender(input: $input) { sender { id address } } }`,
    { input: { address: senderAddress, kind: "LONG_CODE" } },
  );
  const campaign = await gql(
    url,
    key,
    `mutation ($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } } }`,
    {
      input: {
        name: `${name} program`,
        purpose: "MARKETING",
        senderId: sender.createSender.sender.id,
        keywords: ["DEALS"],
        doubleOptIn: false,
        disclosures: disclosures(`${name} Deals`),
      },
    },
  );
  const campaignId: string = campaign.createCampaign.campaign.id;
  await gql(
    url,
    key,
    `mutation ($id: ID!) { setCampaignStatus(input: { id: $id, status: ACTIVE }) { campaign { id } } }`,
    { id: campaignId },
  );
  const id: string = org.createOrganization.organization.id;
  return {
    name,
    id,
    rowId: decodeGlobalID(id).id,
    key,
    senderAddress: sender.createSender.sender.address,
    campaignId,
    campaignRowId: decodeGlobalID(campaignId).id,
  };
}

/** A deterministic shuffle, so every run asks the same mix in the same order. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export async function seedWorld(url: string, config: BenchConfig): Promise<World> {
  const orgs = async (prefix: string, count: number) => {
    const list: OrgSetup[] = [];
    await eachLimited(
      Array.from({ length: count }, (_, i) => i),
      4,
      async (i) => {
        list[i] = await createOrg(url, `${prefix} ${i + 1}`);
      },
    );
    return list;
  };
  const [read] = await orgs("Read", 1);
  const [fanOut] = await orgs("Fan-out", 1);
  const optIn = {
    optgraph: await orgs("OptIn optgraph", config.optIn.orgs),
    baseline: await orgs("OptIn baseline", config.optIn.orgs),
  };
  const webhook = await orgs("Webhook", config.twilioWebhook.orgs);

  const batch = config.canSendMany.batch;
  const seeded = Array.from({ length: Math.ceil(batch * 0.9) }, (_, i) => seededPhone(i));
  await eachLimited(seeded, 8, async (phone) => {
    await gql(url, read.key, OPT_IN, {
      input: { phone, campaignId: read.campaignId, method: "WEB_FORM", evidence: EVIDENCE },
    });
  });
  const unknown = Array.from({ length: batch - seeded.length }, (_, i) =>
    phoneNumber(AREA.unknown, i),
  );
  const readPhones = shuffled([...seeded, ...unknown]);
  return { read, readPhones, optIn, fanOut, webhook };
}
