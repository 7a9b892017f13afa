// Malformed input answers BAD_USER_INPUT naming the argument or field at fault, never a masked
// internal error, and writes nothing: connection cursors, deeply nested or ill-formed evidence.
import { beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization, rowCounts } from "../support/graphql.ts";

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

let port = 0;
let org: Awaited<ReturnType<typeof newOrganization>>;
let campaignId = "";

async function post(body: string): Promise<{ status: number; result: Result }> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${org.adminKey}` },
    body,
  });
  return { status: response.status, result: (await response.json()) as Result };
}

const request = (query: string, variables: Record<string, unknown> = {}) =>
  post(JSON.stringify({ query, variables }));

beforeAll(async () => {
  port = (await testApp()).server.port;
  org = await newOrganization();
  campaignId = (await createCampaign(org.adminKey)).id;
  await request(
    `mutation($c: ID!) { optIn(input: { phone: "+14155550171", campaignId: $c, method: API }) { changed } }`,
    { c: campaignId },
  );
});

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** Cursors that decode, to values that are not keys of any connection. */
const FORGED_CURSORS = [
  b64("GPC:S:xx"),
  b64('GPC:J:{"a":1}'),
  b64("GPC:N:1e999"),
  b64('GPC:T:["S:xx","N:1"]'),
  b64('GPC:T:["S:01a24a83-df0f-744d-b722-667218664e77","N:1e999"]'),
  b64('GPC:T:["S:01a24a83-df0f-744d-b722-667218664e77","N:4294967296"]'),
  b64("GPC:N:1"),
];
/** Cursors that do not decode at all (Pothos refuses them itself). */
const BROKEN_CURSORS = [b64("GPC:"), b64("nonsense"), "!!!"];

describe("connection cursors", () => {
  const connections = [
    "campaigns(after: $after) { edges { node { id } } }",
    "senders(after: $after) { edges { node { id } } }",
    "subscribers(after: $after) { edges { node { id } } }",
    "consents(after: $after) { edges { node { id } } }",
    "consentEvents(after: $after) { edges { node { id } } }",
    "keywordEvents(after: $after) { edges { node { id } } }",
    "campaigns(before: $after, last: 5) { edges { node { id } } }",
    "campaign(id: $c) { consents(after: $after) { edges { node { id } } } }",
    "campaigns(first: 1) { edges { node { consents(after: $after) { pageInfo { hasNextPage } } } } }",
    "subscribers(first: 1) { edges { node { history(after: $after) { pageInfo { hasNextPage } } } } }",
  ];
  for (const selection of connections) {
    it(`refuses malformed cursors: ${selection}`, async () => {
      for (const after of [...FORGED_CURSORS, ...BROKEN_CURSORS]) {
        const withCampaign = selection.includes("$c");
        const { result } = await request(
          `query($after: String${withCampaign ? ", $c: ID!" : ""}) { ${selection} }`,
          withCampaign ? { after, c: campaignId } : { after },
        );
        const error = result.errors?.[0];
        expect(error?.extensions?.code, `${after}: ${JSON.stringify(result)}`).toBe(
          "BAD_USER_INPUT",
        );
        // Pothos refuses what does not decode, or is no tuple where one is due, in its own words;
        // everything else is refused here, naming the argument.
        const pothos = /^(Invalid cursor|Expected compound cursor)/;
        if (BROKEN_CURSORS.includes(after) || pothos.test(error?.message ?? "")) {
          expect(error?.message).toMatch(pothos);
          continue;
        }
        expect({ after, error }).toMatchObject({
          error: {
            message: expect.stringMatching(/^(after|before): is not a cursor/),
            extensions: { field: expect.stringMatching(/^(after|before)$/) },
          },
        });
      }
    });
  }
});

describe("evidence", () => {
  const OPT_IN = `mutation($c: ID!, $e: JSON) {
    optIn(input: { phone: "+14155550172", campaignId: $c, method: API, evidence: $e }) { changed }
  }`;
  /** The request body with the evidence written as raw JSON text (escapes kept as sent). */
  const bodyWith = (evidenceJson: string) =>
    `{"query":${JSON.stringify(OPT_IN)},"variables":{"c":${JSON.stringify(campaignId)},"e":${evidenceJson}}}`;

  it.each<[string, () => string, RegExp]>([
    [
      "nested 100,000 levels deep",
      () => `${'{"a":'.repeat(100_000)}{}${"}".repeat(100_000)}`,
      /nested at most 32 levels/,
    ],
    ["with a lone surrogate", () => '{"note":"a\\ud800b"}', /valid Unicode/],
    ["with a lone surrogate in a key", () => '{"\\udc00":1}', /valid Unicode/],
    ["with __proto__", () => '{"__proto__":{"polluted":true}}', /"__proto__"/],
    ["with constructor", () => '{"x":[{"constructor":1}]}', /"constructor"/],
  ])(
    "refuses evidence %s with BAD_USER_INPUT, writing nothing",
    async (_label, evidence, message) => {
      const before = await rowCounts(org.rowId);
      const { status, result } = await post(bodyWith(evidence()));
      expect(status).toBe(200);
      expect(result.errors?.[0]).toMatchObject({
        message: expect.stringMatching(message),
        extensions: { code: "BAD_USER_INPUT", field: "input.evidence" },
      });
      expect(await rowCounts(org.rowId)).toEqual(before);
    },
  );
});
