// Errors name what the client sent and nothing else: NOT_FOUND quotes the global ID given (never
// the database id behind it), a sender looked up by address says so, and a PARTNER key's ledger
// check counts only its campaigns' events.
import { decodeGlobalID } from "@pothos/plugin-relay";
import { beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";
import { createCampaign, createSender, uniqueLongCode } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let base = "";
let mine: Awaited<ReturnType<typeof newOrganization>>;
let theirs: Awaited<ReturnType<typeof newOrganization>>;
let theirCampaign = "";
let theirSender = "";
let theirKey = "";

async function request(key: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

beforeAll(async () => {
  base = `http://127.0.0.1:${(await testApp()).server.port}`;
  mine = await newOrganization();
  theirs = await newOrganization();
  const campaign = await createCampaign(theirs.adminKey);
  theirCampaign = campaign.id;
  theirSender = campaign.senderId;
  const key = await request(
    theirs.adminKey,
    `mutation { createApiKey(input: { name: "v", role: VIEWER }) { apiKey { id } } }`,
  );
  theirKey = (key.data!.createApiKey as { apiKey: { id: string } }).apiKey.id;
});

describe("NOT_FOUND", () => {
  const probes: [string, string, () => Record<string, unknown>, () => string][] = [
    [
      "optIn",
      `mutation($c: ID!) { optIn(input: { phone: "+14155550191", campaignId: $c, method: API }) { changed } }`,
      () => ({ c: theirCampaign }),
      () => theirCampaign,
    ],
    [
      "canSend",
      `query($c: ID!) { canSend(phone: "+14155550191", campaignId: $c) { allowed } }`,
      () => ({ c: theirCampaign }),
      () => theirCampaign,
    ],
    [
      "createCampaign",
      `mutation($s: ID!) { createCampaign(input: { name: "x", purpose: INFORMATIONAL, senderId: $s,
        disclosures: { programName: "A", messageFrequency: "1/mo", helpText: "h", optInConfirmation: "i",
          optOutConfirmation: "o", consentLanguage: "A. Msg & data rates may apply. HELP, STOP." } }) { campaign { id } } }`,
      () => ({ s: theirSender }),
      () => theirSender,
    ],
    [
      "createApiKey",
      `mutation($c: ID!) { createApiKey(input: { name: "p", role: PARTNER, campaignIds: [$c] }) { secret } }`,
      () => ({ c: theirCampaign }),
      () => theirCampaign,
    ],
    [
      "revokeApiKey",
      `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }`,
      () => ({ id: theirKey }),
      () => theirKey,
    ],
    [
      "setCampaignStatus",
      `mutation($id: ID!) { setCampaignStatus(input: { id: $id, status: PAUSED }) { campaign { id } } }`,
      () => ({ id: theirCampaign }),
      () => theirCampaign,
    ],
  ];
  for (const [field, query, variables, sent] of probes) {
    it(`${field} names the global ID the client sent, not the database id`, async () => {
      const result = await request(mine.adminKey, query, variables());
      const error = result.errors?.[0];
      expect(error?.extensions?.code).toBe("NOT_FOUND");
      expect(error?.message).toContain(`"${sent()}"`);
      expect(error?.message).not.toContain(decodeGlobalID(sent()).id);
    });
  }

  it("names an unknown sender by its address", async () => {
    const address = uniqueLongCode();
    const result = await request(
      mine.adminKey,
      `mutation($to: String!) { receiveInboundMessage(input: { from: "+14155550192", to: $to, body: "STOP" }) { reply } }`,
      { to: address },
    );
    expect(result.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(result.errors?.[0]?.message).toBe(`No sender with address "${address}".`);
  });
});

describe("verifyLedger for a PARTNER key", () => {
  it("counts only the events of the key's campaigns", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const partnerCampaign = await createCampaign(org.adminKey, { senderId: sender.id });
    const other = await createCampaign(org.adminKey, { senderId: sender.id });
    for (const [phone, c] of [
      ["+14155550193", partnerCampaign.id],
      ["+14155550194", other.id],
      ["+14155550195", other.id],
    ]) {
      await request(
        org.adminKey,
        `mutation($p: String!, $c: ID!) { optIn(input: { phone: $p, campaignId: $c, method: API }) { changed } }`,
        { p: phone, c },
      );
    }
    const created = await request(
      org.adminKey,
      `mutation($c: ID!) { createApiKey(input: { name: "p", role: PARTNER, campaignIds: [$c] }) { secret } }`,
      { c: partnerCampaign.id },
    );
    const partnerKey = (created.data!.createApiKey as { secret: string }).secret;
    const query = "{ verifyLedger { ok eventsChecked firstBrokenEventId } }";
    const whole = await request(org.adminKey, query);
    const partner = await request(partnerKey, query);
    expect(whole.data!.verifyLedger).toEqual({
      ok: true,
      eventsChecked: 3,
      firstBrokenEventId: null,
    });
    expect(partner.data!.verifyLedger).toEqual({
      ok: true,
      eventsChecked: 1,
      firstBrokenEventId: null,
    });
  });
});
