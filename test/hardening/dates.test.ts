// Dates that do not exist or lie absurdly far away are BAD_USER_INPUT wherever a date comes in:
// the DateTime scalar (as a variable and inline) and the exports' `at` parameter. Nothing is written.
import { beforeAll, describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization, rowCounts } from "../support/graphql.ts";

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let base = "";
let org: Awaited<ReturnType<typeof newOrganization>>;
let campaignId = "";

const headers = () => ({
  "content-type": "application/json",
  authorization: `Bearer ${org.adminKey}`,
});

async function request(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

beforeAll(async () => {
  base = `http://127.0.0.1:${(await testApp()).server.port}`;
  org = await newOrganization();
  campaignId = (await createCampaign(org.adminKey)).id;
});

const IMPOSSIBLE = [
  ["February 30", "2026-02-30T10:00:00Z", /is not a date and time that exists/],
  ["year 0", "0000-01-01T00:00:00Z", /is before 2000-01-01/],
  ["year 1", "0001-01-01T00:00:00Z", /is before 2000-01-01/],
  ["1999", "1999-12-31T00:00:00Z", /is before 2000-01-01/],
  ["hour 25", "2026-05-01T25:00:00Z", /is not a date and time that exists/],
] as const;

describe("the DateTime scalar", () => {
  for (const [label, value, problem] of IMPOSSIBLE) {
    it(`refuses ${label} as optIn's occurredAt, writing nothing`, async () => {
      const before = await rowCounts(org.rowId);
      const result = await request(
        `mutation($c: ID!, $at: DateTime) {
          optIn(input: { phone: "+14155550181", campaignId: $c, method: API, occurredAt: $at }) { changed }
        }`,
        { c: campaignId, at: value },
      );
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0]?.message).toMatch(problem);
      expect(result.errors?.[0]?.message).toMatch(/input\.occurredAt|\$at/);
      expect(await rowCounts(org.rowId)).toEqual(before);
    });

    it(`refuses ${label} inline, as canSend's at and keywordEvents' receivedAfter`, async () => {
      for (const query of [
        `query($c: ID!) { canSend(phone: "+14155550181", campaignId: $c, at: "${value}") { allowed } }`,
        `query($c: ID!) { canSendMany(phones: ["+14155550181"], campaignId: $c, at: "${value}") { allowed } }`,
        `query($c: ID!) { audience(campaignId: $c, at: "${value}") { edges { cursor } } }`,
      ]) {
        const result = await request(query, { c: campaignId });
        expect(result.errors?.[0]?.extensions?.code, query).toBe("BAD_USER_INPUT");
        expect(result.errors?.[0]?.message, query).toMatch(problem);
      }
      const listed = await request(
        `{ keywordEvents(receivedAfter: "${value}") { edges { cursor } } }`,
      );
      expect(listed.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    });
  }

  it("still reads a real date, with its offset", async () => {
    const result = await request(
      `query($c: ID!) { canSend(phone: "+14155550181", campaignId: $c, at: "2026-03-01T12:00:00-05:00") { allowed reason } }`,
      { c: campaignId },
    );
    expect(result.errors).toBeUndefined();
  });
});

describe("the exports' at parameter", () => {
  for (const [label, value, problem] of IMPOSSIBLE) {
    it(`refuses ${label} with 400 BAD_USER_INPUT`, async () => {
      const response = await fetch(
        `${base}/exports/audience.csv?campaignId=${encodeURIComponent(campaignId)}&at=${encodeURIComponent(value)}`,
        { headers: headers() },
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("BAD_USER_INPUT");
      expect(body.error.message).toMatch(/^at: /);
      expect(body.error.message).toMatch(problem);
    });
  }
});
