// POST /webhooks/twilio/sms on a server of this file's own, configured with a Twilio auth token and
// the public URL Twilio calls. Requests are signed here with node:crypto, independently of the
// code under test: a good signature gets TwiML and the consent change, a bad or missing one gets
// 403 and writes nothing, an organization's own token replaces the environment's, and a
// MessageSid Twilio retries (even 50 times at once) is processed exactly once.
import { createHmac, randomBytes } from "node:crypto";
import { print } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { graphql } from "../generated/gql.ts";
import type { CreateCampaignInput } from "../generated/graphql.ts";
import { PLATFORM_KEY, testEnv } from "../support/app.ts";
import { disclosures, uniqueLongCode } from "../support/fixtures.ts";
import {
  ActivateCampaign,
  CreateCampaign,
  CreateOrganization,
  CreateSender,
} from "../support/documents.ts";

const ENV_TOKEN = "0123456789abcdef0123456789abcdef";
const ORG_TOKEN = "fedcba9876543210fedcba9876543210";
const OTHER_TOKEN = "00112233445566778899aabbccddeeff";
const PUBLIC_URL = "https://optgraph.example";
const SIGNED_URL = `${PUBLIC_URL}/webhooks/twilio/sms`;
const PHONE = "+14155550123";
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';

const UpdateOrganization = graphql(`
  mutation TwhUpdateOrganization($token: String) {
    updateOrganization(input: { twilioAuthToken: $token }) {
      organization {
        hasTwilioAuthToken
      }
    }
  }
`);

let app: App;
let base: string;

/** A GraphQL request to this file's server; fails the test on errors. */
async function call<T, V>(
  key: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Promise<T> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Twilio's scheme, written out here: base64(HMAC-SHA1(token, url ‖ sorted name+value)). */
function sign(token: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], url);
  return createHmac("sha1", token).update(data, "utf8").digest("base64");
}

const messageSid = () => `SM${randomBytes(16).toString("hex")}`;

function message(to: string, body: string, extra: Record<string, string> = {}) {
  return {
    MessageSid: messageSid(),
    AccountSid: `AC${"0".repeat(32)}`,
    From: PHONE,
    To: to,
    Body: body,
    NumMedia: "0",
    ...extra,
  };
}

interface PostOptions {
  /** the X-Twilio-Signature header; null leaves it out */
  signature?: string | null;
  /** the token and URL to sign with, when no signature is given */
  token?: string;
  url?: string;
}

async function post(params: Record<string, string>, options: PostOptions = {}) {
  const signature =
    options.signature === undefined
      ? sign(options.token ?? ENV_TOKEN, options.url ?? SIGNED_URL, params)
      : options.signature;
  const response = await fetch(`${base}/webhooks/twilio/sms`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(signature === null ? {} : { "x-twilio-signature": signature }),
    },
    body: new URLSearchParams(params).toString(),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  };
}

/** The text of the one <Message> of a TwiML reply, with XML entities decoded. */
function messageText(twiml: string): string {
  const match =
    /^<\?xml version="1\.0" encoding="UTF-8"\?><Response><Message>([^<]*)<\/Message><\/Response>$/.exec(
      twiml,
    );
  if (!match) throw new Error(`not a TwiML reply with one message: ${twiml}`);
  return match[1].replace(
    /&(lt|gt|amp|apos|quot);/g,
    (_m, name: string) => ({ lt: "<", gt: ">", amp: "&", apos: "'", quot: '"' })[name]!,
  );
}

interface Org {
  key: string;
  rowId: string;
}

async function newOrg(): Promise<Org> {
  const created = await call(PLATFORM_KEY, CreateOrganization, {
    name: `twilio ${process.pid}-${Date.now()}-${randomBytes(3).toString("hex")}`,
  });
  return {
    key: created.createOrganization.secret,
    rowId: decodeGlobalID(created.createOrganization.organization.id).id,
  };
}

async function newSender(org: Org) {
  const data = await call(org.key, CreateSender, {
    input: { address: uniqueLongCode(), kind: "LONG_CODE" },
  });
  return data.createSender.sender;
}

async function newCampaign(org: Org, senderId: string, options: Partial<CreateCampaignInput> = {}) {
  const data = await call(org.key, CreateCampaign, {
    input: {
      name: `Campaign ${randomBytes(4).toString("hex")}`,
      purpose: "INFORMATIONAL",
      senderId,
      keywords: [],
      doubleOptIn: false,
      disclosures: disclosures(),
      ...options,
    },
  });
  const campaign = data.createCampaign.campaign;
  await call(org.key, ActivateCampaign, { id: campaign.id });
  return { id: campaign.id, rowId: decodeGlobalID(campaign.id).id };
}

/** The rows an inbound message may write, for one organization. */
async function counts(org: Org) {
  const prisma = app.db.prisma;
  const where = { organizationId: org.rowId };
  const [keywordEvents, consentEvents, consents, subscribers] = await Promise.all([
    prisma.keywordEvent.count({ where }),
    prisma.consentEvent.count({ where }),
    prisma.consent.count({ where }),
    prisma.subscriber.count({ where }),
  ]);
  return { keywordEvents, consentEvents, consents, subscribers };
}

async function consentStatus(org: Org, campaignRowId: string, phone = PHONE) {
  const consent = await app.db.prisma.consent.findFirst({
    where: { organizationId: org.rowId, campaignId: campaignRowId, subscriber: { phone } },
  });
  return consent?.status ?? null;
}

beforeAll(async () => {
  app = await startApp(
    loadConfig(
      testEnv({
        TWILIO_AUTH_TOKEN: ENV_TOKEN,
        OPTGRAPH_PUBLIC_URL: PUBLIC_URL,
        LOG_LEVEL: "silent",
      }),
    ),
    { logError: () => undefined },
  );
  base = `http://127.0.0.1:${app.server.port}`;
});

afterAll(() => app?.stop());

describe("a signed webhook", () => {
  it("STOP: 200, TwiML with the opt-out confirmation, and a ledger row", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    const campaign = await newCampaign(org, sender.id);
    const before = await counts(org);
    const params = message(sender.address, "STOP");

    const response = await post(params);
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^text\/xml\b/);
    expect(messageText(response.body)).toBe(disclosures().optOutConfirmation);
    // "you're" is escaped in the XML
    expect(response.body).toContain("you&apos;re unsubscribed");

    expect(await counts(org)).toEqual({
      keywordEvents: before.keywordEvents + 1,
      consentEvents: before.consentEvents + 1,
      consents: before.consents + 1,
      subscribers: before.subscribers + 1,
    });
    const event = await app.db.prisma.keywordEvent.findFirstOrThrow({
      where: { organizationId: org.rowId, providerMessageId: params.MessageSid },
      include: { consentEvents: true },
    });
    expect(event).toMatchObject({ intent: "OPT_OUT", from: PHONE, body: "STOP" });
    expect(event.reply).toBe(disclosures().optOutConfirmation);
    expect(event.consentEvents).toHaveLength(1);
    expect(event.consentEvents[0]).toMatchObject({
      method: "KEYWORD",
      toStatus: "OPTED_OUT",
      campaignId: campaign.rowId,
      apiKeyId: null,
    });
    expect(event.consentEvents[0].evidence).toMatchObject({
      message: {
        from: PHONE,
        to: sender.address,
        body: "STOP",
        providerMessageId: params.MessageSid,
      },
    });
    expect(await consentStatus(org, campaign.rowId)).toBe("OPTED_OUT");
  });

  it("JOIN: TwiML with the double opt-in prompt", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    const campaign = await newCampaign(org, sender.id, { keywords: ["JOIN"], doubleOptIn: true });
    const response = await post(message(sender.address, "join"));
    expect(response.status).toBe(200);
    expect(messageText(response.body)).toBe(
      "Acme Deals: reply Y to confirm your subscription. Up to 4 msgs/month. Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
    );
    expect(response.body).toContain("Msg &amp; data rates may apply");
    expect(await consentStatus(org, campaign.rowId)).toBe("PENDING");

    const yes = await post(message(sender.address, "Y"));
    expect(messageText(yes.body)).toBe(disclosures().optInConfirmation);
    expect(await consentStatus(org, campaign.rowId)).toBe("OPTED_IN");
  });

  it("a message that needs no reply: an empty <Response/>", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    await newCampaign(org, sender.id);
    const before = await counts(org);
    const response = await post(message(sender.address, "What time do you open?"));
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^text\/xml\b/);
    expect(response.body).toBe(`${XML_HEAD}<Response/>`);
    // recorded as evidence all the same, with no consent change
    expect(await counts(org)).toEqual({ ...before, keywordEvents: before.keywordEvents + 1 });
  });

  it("signs and reads non-ASCII bodies as UTF-8", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    const campaign = await newCampaign(org, sender.id);
    const response = await post(message(sender.address, "¡ALTO! 🛑"));
    expect(response.status).toBe(200);
    expect(messageText(response.body)).toBe(disclosures().optOutConfirmation);
    const event = await app.db.prisma.keywordEvent.findFirstOrThrow({
      where: { organizationId: org.rowId },
    });
    expect(event).toMatchObject({ body: "¡ALTO! 🛑", intent: "OPT_OUT", keyword: "ALTO" });
    expect(await consentStatus(org, campaign.rowId)).toBe("OPTED_OUT");
  });

  it("accepts the public URL signed with its default port", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    await newCampaign(org, sender.id);
    const response = await post(message(sender.address, "STOP"), {
      url: "https://optgraph.example:443/webhooks/twilio/sms",
    });
    expect(response.status).toBe(200);
  });

  it("escapes & and < in the reply", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    const texts = {
      ...disclosures("Tom & Jerry's <Deals>"),
      optOutConfirmation: `Tom & Jerry's <Deals>: you're out. No more "deals" <3. Reply START to rejoin.`,
    };
    await newCampaign(org, sender.id, { disclosures: texts });
    const response = await post(message(sender.address, "STOP"));
    expect(response.status).toBe(200);
    expect(messageText(response.body)).toBe(texts.optOutConfirmation);
    expect(response.body).toContain(
      "Tom &amp; Jerry&apos;s &lt;Deals&gt;: you&apos;re out. No more &quot;deals&quot; &lt;3.",
    );
    const help = await post(message(sender.address, "HELP"));
    expect(messageText(help.body)).toContain("Tom & Jerry's <Deals>");
    expect(help.body).not.toContain("<Deals>");
  });
});

describe("a bad signature", () => {
  /** One organization whose sender would opt the number out, were the request accepted. */
  async function target() {
    const org = await newOrg();
    const sender = await newSender(org);
    const campaign = await newCampaign(org, sender.id);
    return { org, sender, campaign };
  }

  const cases: [
    string,
    (to: string) => { params: Record<string, string>; options: PostOptions },
  ][] = [
    [
      "a tampered Body",
      (to) => {
        const params = message(to, "hello");
        const signature = sign(ENV_TOKEN, SIGNED_URL, params);
        return { params: { ...params, Body: "STOP" }, options: { signature } };
      },
    ],
    [
      "an added parameter",
      (to) => {
        const params = message(to, "STOP");
        const signature = sign(ENV_TOKEN, SIGNED_URL, params);
        return { params: { ...params, OptOutType: "STOP" }, options: { signature } };
      },
    ],
    [
      "another path signed",
      (to) => ({
        params: message(to, "STOP"),
        options: { url: `${PUBLIC_URL}/webhooks/twilio/voice` },
      }),
    ],
    [
      "another host signed",
      (to) => ({
        params: message(to, "STOP"),
        options: { url: "https://evil.example/webhooks/twilio/sms" },
      }),
    ],
    [
      "the URL the server listens on, not the public one",
      (to) => ({
        params: message(to, "STOP"),
        options: { url: `${base}/webhooks/twilio/sms` },
      }),
    ],
    [
      "no signature header",
      (to) => ({ params: message(to, "STOP"), options: { signature: null } }),
    ],
    ["an empty signature", (to) => ({ params: message(to, "STOP"), options: { signature: "" } })],
    ["a wrong token", (to) => ({ params: message(to, "STOP"), options: { token: OTHER_TOKEN } })],
    [
      "a truncated signature",
      (to) => {
        const params = message(to, "STOP");
        return { params, options: { signature: sign(ENV_TOKEN, SIGNED_URL, params).slice(0, -1) } };
      },
    ],
  ];

  it.each(cases)("%s → 403, nothing written", async (_what, build) => {
    const { org, sender, campaign } = await target();
    const before = await counts(org);
    const { params, options } = build(sender.address);
    const response = await post(params, options);
    expect(response.status).toBe(403);
    expect(response.body).not.toContain("<Message>");
    expect(await counts(org)).toEqual(before);
    expect(await consentStatus(org, campaign.rowId)).toBeNull();
    expect(
      await app.db.prisma.keywordEvent.count({ where: { providerMessageId: params.MessageSid } }),
    ).toBe(0);
  });

  it("the same request, correctly signed, is accepted (the cases above differ only in the signature)", async () => {
    const { org, sender, campaign } = await target();
    const response = await post(message(sender.address, "STOP"));
    expect(response.status).toBe(200);
    expect(await consentStatus(org, campaign.rowId)).toBe("OPTED_OUT");
  });
});

describe("an organization's own Twilio auth token", () => {
  it("is used instead of the environment's, and the environment's then fails", async () => {
    const mine = await newOrg();
    const sender = await newSender(mine);
    const campaign = await newCampaign(mine, sender.id, { keywords: ["JOINME"] });
    const set = await call(mine.key, UpdateOrganization, { token: ORG_TOKEN });
    expect(set.updateOrganization.organization.hasTwilioAuthToken).toBe(true);
    // the number joins first, so that its START later restores what its STOP ended
    expect((await post(message(sender.address, "JOINME"), { token: ORG_TOKEN })).status).toBe(200);

    const before = await counts(mine);
    const refused = await post(message(sender.address, "STOP"), { token: ENV_TOKEN });
    expect(refused.status).toBe(403);
    expect(await counts(mine)).toEqual(before);

    const accepted = await post(message(sender.address, "STOP"), { token: ORG_TOKEN });
    expect(accepted.status).toBe(200);
    expect(messageText(accepted.body)).toBe(disclosures().optOutConfirmation);
    expect(await consentStatus(mine, campaign.rowId)).toBe("OPTED_OUT");

    // another organization without a token of its own still uses the environment's
    const other = await newOrg();
    const theirs = await newSender(other);
    await newCampaign(other, theirs.id);
    expect((await post(message(theirs.address, "STOP"), { token: ORG_TOKEN })).status).toBe(403);
    expect((await post(message(theirs.address, "STOP"), { token: ENV_TOKEN })).status).toBe(200);

    // removing the token brings the environment's back
    const cleared = await call(mine.key, UpdateOrganization, { token: "" });
    expect(cleared.updateOrganization.organization.hasTwilioAuthToken).toBe(false);
    expect((await post(message(sender.address, "START"), { token: ORG_TOKEN })).status).toBe(403);
    expect((await post(message(sender.address, "START"), { token: ENV_TOKEN })).status).toBe(200);
    expect(await consentStatus(mine, campaign.rowId)).toBe("OPTED_IN");
  });
});

describe("Twilio retries", () => {
  it("50 concurrent POSTs of one MessageSid: all 200, one TwiML, one KeywordEvent, one set of consent events", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    const a = await newCampaign(org, sender.id, { name: "Alpha" });
    const b = await newCampaign(org, sender.id, { name: "Bravo" });
    const before = await counts(org);
    const params = message(sender.address, "STOP");

    const responses = await Promise.all(Array.from({ length: 50 }, () => post(params)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(messageText(responses[0].body)).toContain("Reply START to rejoin");

    const events = await app.db.prisma.keywordEvent.findMany({
      where: { organizationId: org.rowId, providerMessageId: params.MessageSid },
      include: { consentEvents: true },
    });
    expect(events).toHaveLength(1);
    expect(events[0].consentEvents.map((e) => e.campaignId).sort()).toEqual(
      [a.rowId, b.rowId].sort(),
    );
    expect(await counts(org)).toEqual({
      keywordEvents: before.keywordEvents + 1,
      consentEvents: before.consentEvents + 2,
      consents: before.consents + 2,
      subscribers: before.subscribers + 1,
    });
  });

  it("a retry after the first answer gets the same TwiML and changes nothing", async () => {
    const org = await newOrg();
    const sender = await newSender(org);
    const campaign = await newCampaign(org, sender.id, { keywords: ["JOIN"] });
    const params = message(sender.address, "JOIN");
    const first = await post(params);
    expect(messageText(first.body)).toBe(disclosures().optInConfirmation);
    // the number opts out in between; the retried JOIN must not opt it back in
    expect((await post(message(sender.address, "STOP"))).status).toBe(200);
    const before = await counts(org);
    const retry = await post(params);
    expect(retry).toEqual(first);
    expect(await counts(org)).toEqual(before);
    expect(await consentStatus(org, campaign.rowId)).toBe("OPTED_OUT");
  });
});

describe("other requests", () => {
  it("GET → 405 with Allow: POST", async () => {
    const response = await fetch(`${base}/webhooks/twilio/sms`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });

  it("a correctly signed message to a number no organization has → 404, nothing written", async () => {
    const params = message(uniqueLongCode(), "STOP");
    const response = await post(params);
    expect(response.status).toBe(404);
    expect(
      await app.db.prisma.keywordEvent.count({ where: { providerMessageId: params.MessageSid } }),
    ).toBe(0);
  });

  it("a body over 64 KiB → 413, answered rather than cut off", async () => {
    const params = message(uniqueLongCode(), "x".repeat(100_000));
    const response = await post(params);
    expect(response.status).toBe(413);
  });

  it("a body that is not form-encoded → 415", async () => {
    const response = await fetch(`${base}/webhooks/twilio/sms`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ Body: "STOP" }),
    });
    expect(response.status).toBe(415);
  });
});
