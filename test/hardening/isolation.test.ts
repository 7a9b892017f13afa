// Tenant isolation for every query, mutation and subscription, over HTTP, SSE and WebSocket:
// organization A's key aimed at organization B's objects gets what an unknown ID gets, never a
// byte of B's data, and writes nothing to B.
import { getNamedType, isObjectType } from "graphql";
import { createClient } from "graphql-ws";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { schema } from "../../src/schema/index.ts";
import { createImportJob } from "../../src/services/import.ts";
import { testApp } from "../support/app.ts";
import { createCampaign, createSender } from "../support/fixtures.ts";
import { newOrganization, ok, rowCounts } from "../support/graphql.ts";
import { graphql } from "../generated/gql.ts";
import { decodeGlobalID } from "@pothos/plugin-relay";

type Org = Awaited<ReturnType<typeof newOrganization>>;

interface Target {
  org: Org;
  campaignId: string;
  senderId: string;
  senderAddress: string;
  subscriberId: string;
  consentId: string;
  consentEventId: string;
  keywordEventId: string;
  apiKeyId: string;
  importJobId: string;
  phone: string;
  secrets: string[];
}

const Seed = graphql(`
  mutation IsolationSeed($campaignId: ID!, $phone: String!, $to: String!) {
    optIn(input: { phone: $phone, campaignId: $campaignId, method: API }) {
      consent {
        id
        subscriber {
          id
        }
      }
      event {
        id
      }
    }
    receiveInboundMessage(input: { from: $phone, to: $to, body: "no more texts please" }) {
      keywordEvent {
        id
      }
    }
    createApiKey(input: { name: "viewer", role: VIEWER }) {
      apiKey {
        id
      }
    }
  }
`);

const SenderAddress = graphql(`
  query IsolationSenderAddress($id: ID!) {
    node(id: $id) {
      ... on Sender {
        address
      }
    }
  }
`);

/** An import job of the organization (what importConsents would have started). */
async function importJobOf(organizationId: string) {
  const job = await createImportJob((await testApp()).runtime, {
    organizationId,
    apiKeyId: null,
    fileName: "list.csv",
    campaignId: null,
  });
  return Buffer.from(`ImportJob:${job.id}`).toString("base64");
}

async function target(name: string, phone: string): Promise<Target> {
  const org = await newOrganization(`${name} ${Date.now()}`);
  const campaign = await createCampaign(org.adminKey, {
    name: `${name} secret program`,
    purpose: "INFORMATIONAL",
  });
  const address = await ok(org.adminKey, SenderAddress, { id: campaign.senderId });
  const senderAddress = (address.node as { address: string }).address;
  const seeded = await ok(org.adminKey, Seed, {
    campaignId: campaign.id,
    phone,
    to: senderAddress,
  });
  const ids = {
    campaignId: campaign.id,
    senderId: campaign.senderId,
    subscriberId: seeded.optIn.consent.subscriber.id,
    consentId: seeded.optIn.consent.id,
    consentEventId: seeded.optIn.event!.id,
    keywordEventId: seeded.receiveInboundMessage.keywordEvent.id,
    apiKeyId: seeded.createApiKey.apiKey.id,
    importJobId: await importJobOf(org.rowId),
  };
  const secrets = [
    ...Object.values(ids),
    ...Object.values(ids).map((id) => decodeGlobalID(id).id),
    org.id,
    org.rowId,
    `${name} secret program`,
  ];
  return { org, ...ids, senderAddress, phone, secrets };
}

type Outcome = "null" | "empty" | "NOT_FOUND" | "CONFLICT" | "FORBIDDEN" | "BAD_USER_INPUT" | "own";

interface Probe {
  field: string;
  query: string;
  variables: (b: Target) => Record<string, unknown>;
  expect: Outcome;
}

const disclosures = {
  programName: "A",
  messageFrequency: "1/mo",
  helpText: "help",
  optInConfirmation: "in",
  optOutConfirmation: "out",
  consentLanguage: "A texts. Msg & data rates may apply. HELP for help, STOP to cancel.",
};

const probes: Probe[] = [
  ...(
    [
      "campaignId",
      "senderId",
      "subscriberId",
      "consentId",
      "consentEventId",
      "keywordEventId",
      "apiKeyId",
      "importJobId",
    ] as const
  ).map((key): Probe => ({
    field: "node",
    query: "query($id: ID!) { node(id: $id) { id } }",
    variables: (b) => ({ id: b[key] }),
    expect: "null",
  })),
  {
    field: "node",
    query: "query($id: ID!) { node(id: $id) { id } }",
    variables: (b) => ({ id: b.org.id }),
    expect: "null",
  },
  {
    field: "viewer",
    query: "{ viewer { role organization { id name } } }",
    variables: () => ({}),
    expect: "own",
  },
  {
    field: "campaign",
    query: "query($id: ID!) { campaign(id: $id) { id name } }",
    variables: (b) => ({ id: b.campaignId }),
    expect: "null",
  },
  {
    field: "campaigns",
    query: "{ campaigns { edges { node { id name } } } }",
    variables: () => ({}),
    expect: "own",
  },
  {
    field: "senders",
    query: "{ senders { edges { node { id address } } } }",
    variables: () => ({}),
    expect: "own",
  },
  {
    field: "subscriber",
    query: "query($id: ID) { subscriber(id: $id) { id } }",
    variables: (b) => ({ id: b.subscriberId }),
    expect: "null",
  },
  {
    field: "subscriber",
    query: "query($phone: String) { subscriber(phone: $phone) { id consents { id } } }",
    variables: (b) => ({ phone: b.phone }),
    // A may have its own subscriber with that number (after its own optOut below): never B's.
    expect: "own",
  },
  {
    field: "subscribers",
    query: "query($c: ID) { subscribers(campaignId: $c) { edges { node { id } } } }",
    variables: (b) => ({ c: b.campaignId }),
    expect: "empty",
  },
  {
    field: "consents",
    query:
      "query($c: ID, $s: ID) { consents(campaignId: $c, subscriberId: $s) { edges { node { id } } } }",
    variables: (b) => ({ c: b.campaignId, s: b.subscriberId }),
    expect: "empty",
  },
  {
    field: "consentEvents",
    query: "query($c: ID) { consentEvents(campaignId: $c) { edges { node { id hash } } } }",
    variables: (b) => ({ c: b.campaignId }),
    expect: "empty",
  },
  {
    field: "keywordEvents",
    query: "query($c: ID) { keywordEvents(campaignId: $c) { edges { node { id body } } } }",
    variables: (b) => ({ c: b.campaignId }),
    expect: "empty",
  },
  {
    field: "keywordReviews",
    // A's own flagged message, never B's (its id, body and number are among B's secrets)
    query: "query { keywordReviews(first: 50) { edges { node { id body from } } } }",
    variables: () => ({}),
    expect: "own",
  },
  {
    field: "apiKeys",
    // A's own keys, never B's (B's key id is among its secrets)
    query: "{ apiKeys(first: 50) { edges { node { id name } } } }",
    variables: () => ({}),
    expect: "own",
  },
  {
    field: "canSend",
    query: "query($p: String!, $c: ID!) { canSend(phone: $p, campaignId: $c) { allowed } }",
    variables: (b) => ({ p: b.phone, c: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "canSendMany",
    query: "query($p: String!, $c: ID!) { canSendMany(phones: [$p], campaignId: $c) { allowed } }",
    variables: (b) => ({ p: b.phone, c: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "audience",
    query: "query($c: ID!) { audience(campaignId: $c) { edges { node { phone } } } }",
    variables: (b) => ({ c: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "subscriberEvidence",
    query: "query($id: ID) { subscriberEvidence(id: $id) }",
    variables: (b) => ({ id: b.subscriberId }),
    expect: "null",
  },
  {
    field: "subscriberEvidence",
    query: "query($phone: String) { subscriberEvidence(phone: $phone) }",
    variables: (b) => ({ phone: b.phone }),
    // as subscriber(phone): A's own subscriber with that number at most, never B's
    expect: "own",
  },
  {
    field: "importJob",
    query: "query($id: ID!) { importJob(id: $id) { id fileName } }",
    variables: (b) => ({ id: b.importJobId }),
    expect: "null",
  },
  {
    field: "verifyLedger",
    query: "{ verifyLedger { ok eventsChecked } }",
    variables: () => ({}),
    expect: "own",
  },
  {
    field: "confirmOptIn",
    query:
      'mutation($p: String!, $c: ID!, $m: String!) { confirmOptIn(input: { phone: $p, campaignId: $c, message: { from: $p, body: "Y", providerMessageId: $m } }) { changed } }',
    variables: (b) => ({ p: b.phone, c: b.campaignId, m: `SM-isolation-${Math.random()}` }),
    expect: "NOT_FOUND",
  },
  {
    field: "createApiKey",
    query:
      'mutation($c: ID!) { createApiKey(input: { name: "p", role: PARTNER, campaignIds: [$c] }) { secret } }',
    variables: (b) => ({ c: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "createCampaign",
    query: "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
    variables: (b) => ({
      i: { name: "hijack", purpose: "INFORMATIONAL", senderId: b.senderId, disclosures },
    }),
    expect: "NOT_FOUND",
  },
  {
    field: "createOrganization",
    query: 'mutation { createOrganization(input: { name: "x" }) { secret } }',
    variables: () => ({}),
    expect: "FORBIDDEN",
  },
  {
    // Addresses are unique per organization: A registered B's number as its own before the
    // probes, so A's attempt is A's own conflict, saying nothing of B.
    field: "createSender",
    query:
      "mutation($a: String!) { createSender(input: { address: $a, kind: LONG_CODE }) { sender { id } } }",
    variables: (b) => ({ a: b.senderAddress }),
    expect: "CONFLICT",
  },
  {
    // A file travels only in a multipart request (test/import/upload.test.ts aims one at B's
    // campaign: NOT_FOUND); these transports cannot carry one, so the request is refused whole.
    field: "importConsents",
    query:
      "mutation($c: ID, $f: File!) { importConsents(input: { file: $f, campaignId: $c }) { importJob { id } } }",
    variables: (b) => ({ c: b.campaignId, f: "list.csv" }),
    expect: "BAD_USER_INPUT",
  },
  {
    field: "updateSubscriber",
    query:
      'mutation($id: ID) { updateSubscriber(input: { id: $id, state: "CT" }) { subscriber { id } } }',
    variables: (b) => ({ id: b.subscriberId }),
    expect: "NOT_FOUND",
  },
  {
    field: "markKeywordEventReviewed",
    query:
      "mutation($id: ID!) { markKeywordEventReviewed(input: { id: $id }) { keywordEvent { id } } }",
    variables: (b) => ({ id: b.keywordEventId }),
    expect: "NOT_FOUND",
  },
  {
    field: "resolveKeywordReview",
    query:
      "mutation($id: ID!) { resolveKeywordReview(input: { id: $id, decision: REVOCATION }) { keywordEvent { id } } }",
    variables: (b) => ({ id: b.keywordEventId }),
    expect: "NOT_FOUND",
  },
  {
    field: "optIn",
    query:
      "mutation($p: String!, $c: ID!) { optIn(input: { phone: $p, campaignId: $c, method: API }) { changed } }",
    variables: (b) => ({ p: b.phone, c: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "optOut",
    query:
      "mutation($p: String!, $c: ID!) { optOut(input: { phone: $p, campaignId: $c, method: API }) { changed } }",
    variables: (b) => ({ p: b.phone, c: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "optOut",
    query:
      "mutation($p: String!) { optOut(input: { phone: $p, scope: ORGANIZATION, method: API }) { consents { id campaign { id } } } }",
    variables: (b) => ({ p: b.phone }),
    expect: "own",
  },
  {
    // reaches A's own sender with that address, never B's
    field: "receiveInboundMessage",
    query:
      'mutation($p: String!, $to: String!) { receiveInboundMessage(input: { from: $p, to: $to, body: "STOP" }) { reply } }',
    variables: (b) => ({ p: b.phone, to: b.senderAddress }),
    expect: "own",
  },
  {
    field: "revokeApiKey",
    query: "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
    variables: (b) => ({ id: b.apiKeyId }),
    expect: "NOT_FOUND",
  },
  {
    field: "rotatePlatformKey",
    query: "mutation { rotatePlatformKey { secret } }",
    variables: () => ({}),
    expect: "FORBIDDEN",
  },
  {
    field: "setCampaignStatus",
    query:
      "mutation($id: ID!) { setCampaignStatus(input: { id: $id, status: ARCHIVED }) { campaign { id } } }",
    variables: (b) => ({ id: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "updateCampaign",
    query:
      'mutation($id: ID!) { updateCampaign(input: { id: $id, name: "renamed" }) { campaign { id } } }',
    variables: (b) => ({ id: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "updateOrganization",
    query:
      'mutation { updateOrganization(input: { name: "A renamed" }) { organization { id name } } }',
    variables: () => ({}),
    expect: "own",
  },
  {
    field: "consentChanged",
    query: "subscription($c: ID) { consentChanged(campaignId: $c) { id } }",
    variables: (b) => ({ c: b.campaignId }),
    expect: "NOT_FOUND",
  },
  {
    field: "consentChanged",
    query: "subscription($s: ID) { consentChanged(subscriberId: $s) { id } }",
    variables: (b) => ({ s: b.subscriberId }),
    expect: "NOT_FOUND",
  },
  {
    field: "importJobProgress",
    query: "subscription($id: ID!) { importJobProgress(id: $id) { id processed } }",
    variables: (b) => ({ id: b.importJobId }),
    expect: "NOT_FOUND",
  },
  {
    field: "keywordEventReceived",
    query: "subscription($c: ID) { keywordEventReceived(campaignId: $c) { id } }",
    variables: (b) => ({ c: b.campaignId }),
    expect: "NOT_FOUND",
  },
];

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

type Transport = (
  key: string,
  query: string,
  variables: Record<string, unknown>,
) => Promise<Result>;

const isSubscription = (query: string) => query.trimStart().startsWith("subscription");

let port = 0;

const http: Transport = async (key, query, variables) => {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
};

/** First event of a GraphQL-over-SSE response (single-connection mode). */
const sse: Transport = async (key, query, variables) => {
  const controller = new AbortController();
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  let text = "";
  const timeout = setTimeout(() => controller.abort(), 3000);
  try {
    while (!/\ndata: .*\n/.test(`\n${text}`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } catch {
    // aborted: no event within the timeout
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
  const line = `\n${text}`.match(/\ndata: (.*)\n/);
  return line
    ? (JSON.parse(line[1]) as Result)
    : { errors: [{ message: "no event", extensions: { code: "NO_EVENT" } }] };
};

const ws: Transport = (key, query, variables) =>
  new Promise((resolve) => {
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    });
    let first: Result | null = null;
    const finish = (result: Result) => {
      if (first) return;
      first = result;
      clearTimeout(timer);
      void client.dispose();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ errors: [{ message: "no event", extensions: { code: "NO_EVENT" } }] }),
      3000,
    );
    client.subscribe(
      { query, variables },
      {
        next: (value) => finish(value as Result),
        error: (error) =>
          finish({ errors: Array.isArray(error) ? error : [{ message: String(error) }] }),
        complete: () => finish({ data: null }),
      },
    );
  });

let a: Target;
let b: Target;

beforeAll(async () => {
  port = (await testApp()).server.port;
  a = await target("Alpha", "+14155550141");
  b = await target("Bravo", "+14155550142");
  await createSender(a.org.adminKey, b.senderAddress);
});

/** What the caller sent, in every form it can read back (a global ID is only base64 of its row id). */
function sent(variables: Record<string, unknown>): string {
  const values = Object.values(variables).flatMap((v) =>
    typeof v === "object" && v ? Object.values(v) : [v],
  );
  const decoded = values.flatMap((v) => {
    try {
      return typeof v === "string" ? [decodeGlobalID(v).id] : [];
    } catch {
      return [];
    }
  });
  return JSON.stringify([values, decoded]);
}

function check(
  result: Result,
  outcome: Outcome,
  label: string,
  variables: Record<string, unknown>,
) {
  const text = JSON.stringify(result);
  const echoed = sent(variables);
  for (const secret of b.secrets) {
    if (!echoed.includes(secret)) expect(text, `${label} leaks ${secret}`).not.toContain(secret);
  }
  const code = result.errors?.[0]?.extensions?.code;
  if (
    outcome === "NOT_FOUND" ||
    outcome === "CONFLICT" ||
    outcome === "FORBIDDEN" ||
    outcome === "BAD_USER_INPUT"
  ) {
    expect(code, `${label}: ${text}`).toBe(outcome);
    return;
  }
  expect(result.errors ?? [], `${label}: ${text}`).toEqual([]);
  const value = Object.values(result.data ?? {})[0];
  if (outcome === "null") expect(value, label).toBeNull();
  if (outcome === "empty") expect((value as { edges: unknown[] }).edges, label).toEqual([]);
}

describe("tenant isolation", () => {
  it("probes every root field of the schema", () => {
    const fields = [
      schema.getQueryType(),
      schema.getMutationType(),
      schema.getSubscriptionType(),
    ].flatMap((type) => Object.keys(type!.getFields()));
    const probed = new Set(probes.map((p) => p.field));
    expect(fields.filter((field) => !probed.has(field))).toEqual([]);
    expect(isObjectType(getNamedType(schema.getQueryType()!))).toBe(true);
  });

  for (const [name, transport] of [
    ["HTTP", http],
    ["SSE", sse],
    ["WebSocket", ws],
  ] as const) {
    it(`answers A's requests for B's objects like unknown ones over ${name}, and writes nothing to B`, async () => {
      const before = await rowCounts(b.org.rowId);
      const ledgerBefore = await b.org.prisma.organization.findUniqueOrThrow({
        where: { id: b.org.rowId },
      });
      for (const probe of probes) {
        if (isSubscription(probe.query) && name === "HTTP") continue;
        const variables = probe.variables(b);
        const result = await transport(a.org.adminKey, probe.query, variables);
        check(result, probe.expect, `${name} ${probe.field} ${probe.query}`, variables);
      }
      expect(await rowCounts(b.org.rowId)).toEqual(before);
      const ledgerAfter = await b.org.prisma.organization.findUniqueOrThrow({
        where: { id: b.org.rowId },
      });
      expect(ledgerAfter).toEqual(ledgerBefore);
    });
  }

  it("never delivers B's events to A's unfiltered subscription", async () => {
    const received: unknown[] = [];
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${a.org.adminKey}` },
      retryAttempts: 0,
    });
    const subscribed = new Promise<void>((resolve) => {
      client.on("connected", () => setTimeout(resolve, 200));
    });
    client.subscribe(
      { query: "subscription { consentChanged { id } }" },
      { next: (v) => received.push(v), error: () => undefined, complete: () => undefined },
    );
    await subscribed;
    await ok(
      b.org.adminKey,
      graphql(`
        mutation IsolationOtherWrite($c: ID!) {
          optIn(input: { phone: "+14155550143", campaignId: $c, method: API }) {
            changed
          }
        }
      `),
      { c: b.campaignId },
    );
    await new Promise((r) => setTimeout(r, 1500));
    await client.dispose();
    expect(received).toEqual([]);
  });
});
