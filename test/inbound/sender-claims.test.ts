// Sender addresses are claimed per organization, without proof: another organization may register
// the same number, is told nothing about who else has it, and gains nothing by it. A Twilio
// webhook belongs to the organization whose auth token validates its signature, whoever
// registered the number first; the API delivers only to the caller's own sender.
import { createHmac, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { PLATFORM_KEY, testEnv } from "../support/app.ts";
import { uniqueLongCode } from "../support/fixtures.ts";

const ENV_TOKEN = "0123456789abcdef0123456789abcdef";
const A_TOKEN = "aaaaaaaaaaaaaaaa1111111111111111";
const B_TOKEN = "bbbbbbbbbbbbbbbb2222222222222222";
const PUBLIC_URL = "https://optgraph.example";
const SIGNED_URL = `${PUBLIC_URL}/webhooks/twilio/sms`;

interface Result {
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

let app: App;
let base = "";

async function request(key: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

async function organization(token: string | null) {
  const created = await request(
    PLATFORM_KEY,
    `mutation($n: String!) { createOrganization(input: { name: $n }) { organization { id } secret } }`,
    { n: `claims ${randomBytes(4).toString("hex")}` },
  );
  const key = created.data!.createOrganization.secret as string;
  if (token) {
    await request(
      key,
      `mutation($t: String) { updateOrganization(input: { twilioAuthToken: $t }) { organization { id } } }`,
      { t: token },
    );
  }
  const id = Buffer.from(created.data!.createOrganization.organization.id, "base64")
    .toString("utf8")
    .split(":")[1];
  return { key, id };
}

const createSender = (key: string, address: string) =>
  request(
    key,
    `mutation($a: String!) { createSender(input: { address: $a, kind: LONG_CODE }) { sender { id address } } }`,
    { a: address },
  );

const sign = (token: string, params: Record<string, string>) =>
  createHmac("sha1", token)
    .update(
      Object.keys(params)
        .sort()
        .reduce((acc, name) => acc + name + params[name], SIGNED_URL),
      "utf8",
    )
    .digest("base64");

async function webhook(token: string, to: string, body: string) {
  const params = {
    MessageSid: `SM${randomBytes(16).toString("hex")}`,
    From: "+14155550199",
    To: to,
    Body: body,
  };
  const response = await fetch(`${base}/webhooks/twilio/sms`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": sign(token, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, text: await response.text() };
}

const messages = (organizationId: string) =>
  app.db.prisma.keywordEvent.count({ where: { organizationId } });

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

describe("a sender address", () => {
  it("may be registered by another organization, which learns nothing about the first", async () => {
    const a = await organization(null);
    const b = await organization(null);
    const address = uniqueLongCode();
    expect((await createSender(a.key, address)).errors).toBeUndefined();
    const claimed = await createSender(b.key, address);
    expect(claimed.errors).toBeUndefined();
    expect(claimed.data!.createSender.sender.address).toBe(address);
    // Twice in one organization is the only conflict, and it names that organization only.
    const again = await createSender(b.key, address.replace("+1", ""));
    expect(again.errors?.[0]).toMatchObject({
      message: `A sender with address ${address} is already registered in this organization.`,
      extensions: { code: "CONFLICT", field: "input.address" },
    });
    const senders = await app.db.prisma.sender.findMany({ where: { address } });
    expect(senders.map((s) => s.organizationId).sort()).toEqual([a.id, b.id].sort());
  });

  it("brings a signed webhook to the organization whose token validates it, not the first to register", async () => {
    const a = await organization(A_TOKEN);
    const b = await organization(null);
    const address = uniqueLongCode();
    // B registers A's number first, and relies on the environment's token.
    await createSender(b.key, address);
    await createSender(a.key, address);

    const toA = await webhook(A_TOKEN, address, "HELP");
    expect(toA.status).toBe(200);
    expect([await messages(a.id), await messages(b.id)]).toEqual([1, 0]);

    const toB = await webhook(ENV_TOKEN, address, "HELP");
    expect(toB.status).toBe(200);
    expect([await messages(a.id), await messages(b.id)]).toEqual([1, 1]);

    // B setting a token of its own gains it nothing of A's.
    await request(
      b.key,
      `mutation { updateOrganization(input: { twilioAuthToken: "${B_TOKEN}" }) { organization { id } } }`,
    );
    expect((await webhook(A_TOKEN, address, "HELP")).status).toBe(200);
    expect((await webhook(B_TOKEN, address, "HELP")).status).toBe(200);
    expect([await messages(a.id), await messages(b.id)]).toEqual([2, 2]);

    const forged = await webhook("cccccccccccccccc3333333333333333", address, "STOP");
    expect(forged.status).toBe(403);
    expect([await messages(a.id), await messages(b.id)]).toEqual([2, 2]);
  });

  it("delivers receiveInboundMessage to the caller's own sender only", async () => {
    const a = await organization(null);
    const b = await organization(null);
    const c = await organization(null);
    const address = uniqueLongCode();
    await createSender(a.key, address);
    await createSender(b.key, address);
    const send = (key: string) =>
      request(
        key,
        `mutation($to: String!) { receiveInboundMessage(input: { from: "+14155550198", to: $to, body: "HELP" }) { duplicate } }`,
        { to: address },
      );
    expect((await send(b.key)).errors).toBeUndefined();
    expect([await messages(a.id), await messages(b.id)]).toEqual([0, 1]);
    const stranger = await send(c.key);
    expect(stranger.errors?.[0]).toMatchObject({
      message: `No sender with address "${address}".`,
      extensions: { code: "NOT_FOUND" },
    });
    expect([await messages(a.id), await messages(b.id), await messages(c.id)]).toEqual([0, 1, 0]);
  });
});
