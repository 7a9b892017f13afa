// The apiKeys connection: an ADMIN key lists its organization's keys (name, role, a PARTNER's
// campaigns, created, last-used and revoked times), never a secret or its hash; other roles get
// FORBIDDEN; another organization's keys never show. lastUsedAt follows use, written at most once
// a minute per key, not per request.
import { printSchema } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { beforeAll, describe, expect, it } from "vitest";
import { hashApiKeySecret } from "../../src/domain/api-key.ts";
import { schema } from "../../src/schema/index.ts";
import { graphql } from "../generated/index.ts";
import { recordQueries, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { execute, failure, newOrganization, ok } from "../support/graphql.ts";
import { CreateApiKey, RevokeApiKey } from "../support/documents.ts";

const ApiKeys = graphql(`
  query KeysList($first: Int, $after: String) {
    apiKeys(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          name
          role
          campaignIds
          secretPrefix
          createdAt
          lastUsedAt
          revokedAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const Viewer = graphql(`
  query KeysViewer {
    viewer {
      role
    }
  }
`);

async function keyOf(adminKey: string, name: string, role: string, campaignIds?: string[]) {
  const data = await ok(adminKey, CreateApiKey, {
    input: { name, role: role as "ADMIN", campaignIds },
  });
  return data.createApiKey;
}

const list = async (key: string) =>
  (await ok(key, ApiKeys, { first: 100 })).apiKeys.edges.map((e) => e.node);

// the shared server starts within the hook's time, not the first test's
beforeAll(async () => {
  await testApp();
});

describe("apiKeys", () => {
  it("lists the organization's keys, oldest first, with their role, campaigns and times, never a secret", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const partner = await keyOf(org.adminKey, "Partner CRM", "PARTNER", [campaign.id]);
    const operator = await keyOf(org.adminKey, "Old integration", "OPERATOR");
    const viewer = await keyOf(org.adminKey, "Dashboards", "VIEWER");
    await ok(org.adminKey, RevokeApiKey, { id: operator.apiKey.id });

    const keys = await list(org.adminKey);
    expect(keys.map((k) => [k.name, k.role])).toEqual([
      [expect.any(String), "ADMIN"],
      ["Partner CRM", "PARTNER"],
      ["Old integration", "OPERATOR"],
      ["Dashboards", "VIEWER"],
    ]);
    expect(keys.map((k) => k.id).slice(1)).toEqual([
      partner.apiKey.id,
      operator.apiKey.id,
      viewer.apiKey.id,
    ]);
    expect(keys[1].campaignIds).toEqual([campaign.id]);
    expect(keys[3].campaignIds).toEqual([]);
    expect(keys.map((k) => k.revokedAt !== null)).toEqual([false, false, true, false]);
    for (const key of keys) expect(Date.parse(key.createdAt)).toBeGreaterThan(0);
    expect(keys[1].secretPrefix).toBe(partner.secret.slice(0, keys[1].secretPrefix.length));

    const text = JSON.stringify(keys);
    for (const secret of [org.adminKey, partner.secret, operator.secret, viewer.secret]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashApiKeySecret(secret));
    }
    const apiKeyType = /type ApiKey implements Node \{[^}]*\}/.exec(printSchema(schema))![0];
    expect(apiKeyType).not.toMatch(/secret(Hash)?:|hash/i);
  });

  it("pages with first and after", async () => {
    const org = await newOrganization();
    for (const name of ["k1", "k2", "k3"]) await keyOf(org.adminKey, name, "VIEWER");
    const first = (await ok(org.adminKey, ApiKeys, { first: 2 })).apiKeys;
    expect(first.edges).toHaveLength(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await ok(org.adminKey, ApiKeys, { first: 2, after: first.pageInfo.endCursor }))
      .apiKeys;
    expect(rest.edges.map((e) => e.node.name)).toEqual(["k2", "k3"]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  it("never shows another organization's keys", async () => {
    const mine = await newOrganization();
    const theirs = await newOrganization();
    await keyOf(theirs.adminKey, "Theirs", "OPERATOR");
    const keys = await list(mine.adminKey);
    expect(keys).toHaveLength(1);
    expect(keys[0].name).not.toBe("Theirs");
  });

  it("is FORBIDDEN to OPERATOR, VIEWER and PARTNER keys", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    for (const [role, campaignIds] of [
      ["OPERATOR", undefined],
      ["VIEWER", undefined],
      ["PARTNER", [campaign.id]],
    ] as const) {
      const { secret } = await keyOf(org.adminKey, role, role, campaignIds && [...campaignIds]);
      const refused = await failure(secret, ApiKeys, { first: 10 });
      expect(refused.extensions?.code).toBe("FORBIDDEN");
      const result = await execute(secret, ApiKeys, { first: 10 });
      expect(result.data).toBeNull();
    }
  });

  it("records lastUsedAt when a key is used, at most once a minute", async () => {
    const org = await newOrganization();
    const viewer = await keyOf(org.adminKey, "Used", "VIEWER");
    const lastUsed = async () => (await list(org.adminKey)).find((k) => k.name === "Used")!;
    expect((await lastUsed()).lastUsedAt).toBeNull();

    await ok(viewer.secret, Viewer);
    await expect.poll(async () => (await lastUsed()).lastUsedAt, { timeout: 5000 }).not.toBeNull();
    const first = (await lastUsed()).lastUsedAt!;
    expect(Date.now() - Date.parse(first)).toBeLessThan(60_000);

    // past the one-second key cache the key is looked up again, and within the minute not written
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const { queries } = await recordQueries(() => ok(viewer.secret, Viewer));
    expect(queries.some((sql) => /"ApiKey"/.test(sql))).toBe(true);
    expect(queries.filter((sql) => /"lastUsedAt"/.test(sql) && /update/i.test(sql))).toEqual([]);
    expect((await lastUsed()).lastUsedAt).toBe(first);
  });

  it("keeps lastUsedAt current for a key used only by a live WebSocket subscription", async () => {
    const org = await newOrganization();
    const viewer = await keyOf(org.adminKey, "Live dashboard", "VIEWER");
    const app = await testApp();
    const client = createClient({
      url: `ws://127.0.0.1:${app.server.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${viewer.secret}` },
      retryAttempts: 0,
    });
    const stop = client.subscribe(
      { query: "subscription { consentChanged { cursor } }" },
      { next: () => undefined, error: () => undefined, complete: () => undefined },
    );
    try {
      const lastUsed = async () =>
        (await list(org.adminKey)).find((k) => k.name === "Live dashboard")!.lastUsedAt;
      await expect.poll(lastUsed, { timeout: 5000 }).not.toBeNull();
      // as if the connection had been open for two minutes without another request
      const twoMinutesAgo = new Date(Date.now() - 120_000);
      // (the once-a-second check may move it on again at once: that is what is tested)
      const backdated = await org.prisma.apiKey.updateMany({
        where: { name: "Live dashboard", organizationId: org.rowId },
        data: { lastUsedAt: twoMinutesAgo },
      });
      expect(backdated.count).toBe(1);
      await expect
        .poll(async () => Date.parse((await lastUsed())!), { timeout: 10_000 })
        .toBeGreaterThan(Date.now() - 60_000);
    } finally {
      stop();
      await client.dispose();
    }
  });
});
