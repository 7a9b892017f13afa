// Each query limit at n (accepted) and n+1 (refused before any database call), the request size
// limits, CSRF prevention, and no mutations over GET.
import { SEND_CACHE_SQL_TAG } from "../../src/services/send-cache-reads.ts";
import { describe, expect, it } from "vitest";
import { recordQueries, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";

async function post(key: string, query: string, extra: Record<string, unknown> = {}) {
  const app = await testApp();
  const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, ...extra }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
}

/** Sends a request and returns it with the SQL statements it caused. */
const measured = (key: string, query: string) => recordQueries(() => post(key, query));

const repeat = (n: number, text: string, separator = " ") =>
  Array.from({ length: n }, () => text).join(separator);

function depthQuery(depth: number): string {
  // subscriber(1) history(2) edges(3) node(4) campaign(5) name(6) / sender(6) address(7)
  return depth === 6
    ? '{ subscriber(phone: "+14155550100") { history { edges { node { campaign { name } } } } } }'
    : '{ subscriber(phone: "+14155550100") { history { edges { node { campaign { sender { address } } } } } } }';
}

const cases: [string, string, string, RegExp][] = [
  ["depth 6", depthQuery(6), depthQuery(7), /depth limit of 6/],
  [
    "aliases 15",
    `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: viewer { role }`).join(" ")} }`,
    `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { role }`).join(" ")} }`,
    /Aliases limit of 15/,
  ],
  [
    "directives 50",
    `{ viewer { ${repeat(50, "role @include(if: true)")} } }`,
    `{ viewer { ${repeat(51, "role @include(if: true)")} } }`,
    /Directives limit of 50/,
  ],
  [
    "tokens 1000",
    // canSendMany with k phones is k + 15 tokens (the test fills in a real campaign id)
    `{ canSendMany(campaignId: "CAMPAIGN", phones: [${repeat(985, '"+14155550100"')}]) { allowed } }`,
    `{ canSendMany(campaignId: "CAMPAIGN", phones: [${repeat(986, '"+14155550100"')}]) { allowed } }`,
    /Token limit of 1000/,
  ],
  // campaigns(first: n) { edges { node { id } } } costs 12.875 × n
  [
    "cost 5000",
    "{ campaigns(first: 388) { edges { node { id } } } }",
    "{ campaigns(first: 389) { edges { node { id } } } }",
    /Cost limit of 5000/,
  ],
  [
    "characters 20000",
    `{ viewer { role } }\n#${"x".repeat(20_000 - 21)}`,
    `{ viewer { role } }\n#${"x".repeat(20_000 - 20)}`,
    /longer than 20000 characters/,
  ],
];

describe("query limits", () => {
  it.each(cases)(
    "%s: n is accepted, n+1 is refused before any database call",
    async (_name, atLimit, overLimit, message) => {
      const org = await newOrganization();
      const campaign = atLimit.includes("CAMPAIGN")
        ? await createCampaign(org.adminKey, { purpose: "INFORMATIONAL" })
        : null;
      const fill = (query: string) => (campaign ? query.replace("CAMPAIGN", campaign.id) : query);
      const accepted = await measured(org.adminKey, fill(atLimit));
      expect(accepted.result.body.errors ?? []).toEqual([]);
      expect(accepted.result.status).toBe(200);

      const refused = await measured(org.adminKey, fill(overLimit));
      expect(refused.result.body.errors?.[0]?.message).toMatch(message);
      expect(refused.result.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(refused.result.body.data ?? null).toBeNull();
      // The accepted request's key bookkeeping (lastUsedAt) may still be landing, and the send
      // cache confirms the organizations it holds on a timer: neither is the refused request's.
      const background = (sql: string) =>
        /SET "lastUsedAt"/.test(sql) || sql.startsWith(SEND_CACHE_SQL_TAG);
      expect(refused.queries.filter((sql) => !background(sql))).toEqual([]);
    },
  );

  it("checks the character count exactly at the boundary", () => {
    expect(cases[5][1]).toHaveLength(20_000);
    expect(cases[5][2]).toHaveLength(20_001);
  });
});

describe("request size and transport rules", () => {
  it("refuses a body over 1 MiB with 413 and accepts one at the limit", async () => {
    const org = await newOrganization();
    const app = await testApp();
    const url = `http://127.0.0.1:${app.server.port}/graphql`;
    const body = (size: number) => {
      const base = JSON.stringify({ query: "{ viewer { role } }", extensions: { pad: "" } });
      return base.replace('"pad":""', `"pad":"${"x".repeat(size - base.length)}"`);
    };
    const send = (payload: string) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${org.adminKey}` },
        body: payload,
      });
    expect(body(1_048_576)).toHaveLength(1_048_576);
    expect((await send(body(1_048_576))).status).toBe(200);
    const refused = await send(body(1_048_577));
    expect(refused.status).toBe(413);
  });

  it("needs the CSRF header on GET, and never runs a mutation over GET", async () => {
    const org = await newOrganization();
    const app = await testApp();
    const base = `http://127.0.0.1:${app.server.port}/graphql`;
    const get = (query: string, headers: Record<string, string>) =>
      fetch(`${base}?query=${encodeURIComponent(query)}`, {
        headers: {
          authorization: `Bearer ${org.adminKey}`,
          accept: "application/graphql-response+json",
          ...headers,
        },
      });
    expect((await get("{ viewer { role } }", {})).status).toBe(403);
    const ok = await get("{ viewer { role } }", { "x-graphql-yoga-csrf": "1" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { viewer: { role: "ADMIN" } } });
    const mutation = await get(
      'mutation { createSender(input: { address: "+14155550123", kind: LONG_CODE }) { sender { id } } }',
      {
        "x-graphql-yoga-csrf": "1",
      },
    );
    expect(mutation.status).toBe(405);
    const counts = await org.prisma.sender.count({ where: { organizationId: org.rowId } });
    expect(counts).toBe(0);
  });
});
