// Authentication and roles: who may call at all (API keys, revocation, the Authorization header),
// what each role may do, the platform key, PARTNER keys limited to their campaigns, and API key
// secrets that are shown once and stored only as a hash.
import { createHash } from "node:crypto";
import { getNamedType, isLeafType, isObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";
import { graphql } from "../generated/gql.ts";
import type { Role } from "../generated/graphql.ts";
import { PLATFORM_KEY, testApp } from "../support/app.ts";
import { createCampaign, createSender, disclosures, uniqueLongCode } from "../support/fixtures.ts";
import { execute, failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import {
  CreateApiKey,
  CreateCampaign,
  CreateOrganization,
  CreateSender,
  RevokeApiKey,
  SetCampaignStatus,
  UpdateCampaign,
  Viewer,
} from "../support/documents.ts";

const Campaigns = graphql(`
  query AuthCampaigns {
    campaigns(first: 50) {
      edges {
        node {
          id
          sender {
            id
          }
        }
      }
    }
  }
`);

const Lookups = graphql(`
  query AuthLookups($id: ID!) {
    campaign(id: $id) {
      id
    }
    node(id: $id) {
      __typename
      id
    }
  }
`);

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** A POST to /graphql with exactly the headers given (no Authorization unless given). */
async function post(headers: Record<string, string>, query: string, variables = {}) {
  const app = await testApp();
  const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return { status: response.status, headers: response.headers, ...body };
}

async function keyOf(adminKey: string, role: Role, campaignIds?: string[]) {
  const data = await ok(adminKey, CreateApiKey, {
    input: { name: `${role} key`, role, campaignIds },
  });
  return data.createApiKey;
}

const campaignInput = (senderId: string, name = `Campaign ${Math.random()}`) => ({
  name,
  purpose: "MARKETING" as const,
  senderId,
  disclosures: disclosures(),
});

describe("authentication", () => {
  it("answers a request without Authorization with 401 UNAUTHENTICATED", async () => {
    const result = await execute(null, Viewer);
    expect(result.status).toBe(401);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    const raw = await post({}, "{ viewer { role } }");
    expect(raw.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("answers an unknown key with 401 UNAUTHENTICATED", async () => {
    const result = await execute("og_thisKeyWasNeverIssued0123456789", Viewer);
    expect(result.status).toBe(401);
    expect(result.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    expect(result.data ?? null).toBeNull();
  });

  it("stops accepting a key once it is revoked, and only that key", async () => {
    const org = await newOrganization();
    const { secret, apiKey } = await keyOf(org.adminKey, "OPERATOR");
    expect((await ok(secret, Viewer)).viewer.role).toBe("OPERATOR");

    const revoked = await ok(org.adminKey, RevokeApiKey, { id: apiKey.id });
    expect(revoked.revokeApiKey.apiKey.id).toBe(apiKey.id);
    expect(revoked.revokeApiKey.apiKey.revokedAt).not.toBeNull();

    const result = await execute(secret, Viewer);
    expect(result.status).toBe(401);
    expect(result.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    expect(result.data ?? null).toBeNull();
    // the organization's other keys are untouched
    expect((await ok(org.adminKey, Viewer)).viewer.role).toBe("ADMIN");
    // revoking again changes nothing
    const again = await ok(org.adminKey, RevokeApiKey, { id: apiKey.id });
    expect(again.revokeApiKey.apiKey.revokedAt).toBe(revoked.revokeApiKey.apiKey.revokedAt);
  });

  it.each([
    ["Bearer <key>", (key: string) => `Bearer ${key}`],
    ["bearer <key> (case-insensitive scheme)", (key: string) => `bearer ${key}`],
    ["the bare key", (key: string) => key],
  ])("accepts Authorization: %s", async (_label, header) => {
    const org = await newOrganization();
    const result = await post({ authorization: header(org.adminKey) }, "{ viewer { role } }");
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ viewer: { role: "ADMIN" } });
  });

  it.each([
    ["another scheme", (key: string) => `Basic ${key}`],
    ["Bearer without a key", () => "Bearer"],
    ["two tokens after Bearer", (key: string) => `Bearer ${key} extra`],
    [
      "a key with a character changed",
      (key: string) => `Bearer ${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`,
    ],
  ])("refuses Authorization: %s", async (_label, header) => {
    const org = await newOrganization();
    const result = await post({ authorization: header(org.adminKey) }, "{ viewer { role } }");
    expect(result.status).toBe(401);
    expect(result.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("roles", () => {
  it("VIEWER reads but cannot configure or manage keys (FORBIDDEN, nothing written)", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey, { active: false });
    const other = await keyOf(org.adminKey, "OPERATOR");
    const { secret: viewer } = await keyOf(org.adminKey, "VIEWER");

    expect((await ok(viewer, Viewer)).viewer.role).toBe("VIEWER");
    const listed = await ok(viewer, Campaigns);
    expect(listed.campaigns.edges.map((e) => e.node.id)).toEqual([campaign.id]);

    const before = await rowCounts(org.rowId);
    const attempts = [
      () =>
        failure(viewer, CreateSender, { input: { address: uniqueLongCode(), kind: "LONG_CODE" } }),
      () => failure(viewer, CreateCampaign, { input: campaignInput(campaign.senderId) }),
      () => failure(viewer, UpdateCampaign, { input: { id: campaign.id, name: "Renamed" } }),
      () => failure(viewer, SetCampaignStatus, { input: { id: campaign.id, status: "ACTIVE" } }),
      () => failure(viewer, CreateApiKey, { input: { name: "mine", role: "ADMIN" } }),
      () => failure(viewer, CreateApiKey, { input: { name: "mine", role: "VIEWER" } }),
      () => failure(viewer, RevokeApiKey, { id: other.apiKey.id }),
      () => failure(viewer, CreateOrganization, { name: "viewer org" }),
    ];
    for (const attempt of attempts) {
      const error = await attempt();
      expect(error.extensions?.code).toBe("FORBIDDEN");
      expect(error.status).toBe(200);
    }
    expect(await rowCounts(org.rowId)).toEqual(before);
    const row = await org.prisma.campaign.findFirstOrThrow({
      where: { organizationId: org.rowId },
    });
    expect({ name: row.name, status: row.status }).toEqual({
      name: campaign.name,
      status: "DRAFT",
    });
    // the OPERATOR key it tried to revoke still works
    expect((await ok(other.secret, Viewer)).viewer.role).toBe("OPERATOR");
  });

  it("OPERATOR configures senders and campaigns but cannot manage keys", async () => {
    const org = await newOrganization();
    const { secret: operator } = await keyOf(org.adminKey, "OPERATOR");
    const admin = await keyOf(org.adminKey, "ADMIN");

    const sender = (
      await ok(operator, CreateSender, { input: { address: uniqueLongCode(), kind: "LONG_CODE" } })
    ).createSender.sender;
    const campaign = (await ok(operator, CreateCampaign, { input: campaignInput(sender.id) }))
      .createCampaign.campaign;
    expect(campaign.status).toBe("DRAFT");
    const renamed = await ok(operator, UpdateCampaign, {
      input: { id: campaign.id, name: "Operator's campaign" },
    });
    expect(renamed.updateCampaign.campaign.name).toBe("Operator's campaign");
    const active = await ok(operator, SetCampaignStatus, {
      input: { id: campaign.id, status: "ACTIVE" },
    });
    expect(active.setCampaignStatus.campaign.status).toBe("ACTIVE");

    const before = await rowCounts(org.rowId);
    for (const role of ["ADMIN", "OPERATOR", "VIEWER"] as const) {
      const error = await failure(operator, CreateApiKey, { input: { name: "more", role } });
      expect(error.extensions?.code).toBe("FORBIDDEN");
    }
    const error = await failure(operator, RevokeApiKey, { id: admin.apiKey.id });
    expect(error.extensions?.code).toBe("FORBIDDEN");
    expect((await failure(operator, CreateOrganization, { name: "op org" })).extensions?.code).toBe(
      "FORBIDDEN",
    );
    expect(await rowCounts(org.rowId)).toEqual(before);
    expect((await ok(admin.secret, Viewer)).viewer.role).toBe("ADMIN");
  });

  it("an organization's ADMIN key cannot create organizations; the platform key can", async () => {
    const org = await newOrganization();
    const name = `Onboarded ${Date.now()}-${Math.random()}`;

    const refused = await failure(org.adminKey, CreateOrganization, { name });
    expect(refused.extensions?.code).toBe("FORBIDDEN");
    expect(await org.prisma.organization.count({ where: { name } })).toBe(0);

    const created = (await ok(PLATFORM_KEY, CreateOrganization, { name })).createOrganization;
    expect(created.organization.name).toBe(name);
    expect(created.secret).toMatch(/^og_/);

    // the secret is the new organization's first ADMIN key
    const viewer = await ok(created.secret, Viewer);
    expect(viewer.viewer).toEqual({ role: "ADMIN", organization: created.organization });
    const sender = await createSender(created.secret);
    const row = await org.prisma.sender.findFirstOrThrow({ where: { address: sender.address } });
    const organization = await org.prisma.organization.findFirstOrThrow({ where: { name } });
    expect(row.organizationId).toBe(organization.id);
    // but it is not a platform key
    const nested = await failure(created.secret, CreateOrganization, { name: `${name} 2` });
    expect(nested.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("PARTNER keys", () => {
  it("see only their campaigns and cannot configure", async () => {
    const org = await newOrganization();
    const mine = await createCampaign(org.adminKey);
    const sameSender = await createCampaign(org.adminKey, { senderId: mine.senderId });
    const elsewhere = await createCampaign(org.adminKey);
    const { secret: partner, apiKey } = await keyOf(org.adminKey, "PARTNER", [mine.id]);
    expect(apiKey.campaignIds).toEqual([mine.id]);
    expect((await ok(partner, Viewer)).viewer.role).toBe("PARTNER");

    // the ADMIN sees all three; the partner only its own
    const all = await ok(org.adminKey, Campaigns);
    expect(all.campaigns.edges.map((e) => e.node.id).sort()).toEqual(
      [mine.id, sameSender.id, elsewhere.id].sort(),
    );
    const listed = await ok(partner, Campaigns);
    expect(listed.campaigns.edges.map((e) => e.node.id)).toEqual([mine.id]);

    const own = await ok(partner, Lookups, { id: mine.id });
    expect(own.campaign?.id).toBe(mine.id);
    expect(own.node).toEqual({ __typename: "Campaign", id: mine.id });
    for (const other of [sameSender, elsewhere]) {
      const result = await execute(partner, Lookups, { id: other.id });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ campaign: null, node: null });
    }
    // the sender of its campaign is visible; a sender only other campaigns use is not
    expect((await ok(partner, Lookups, { id: mine.senderId })).node?.__typename).toBe("Sender");
    expect((await ok(partner, Lookups, { id: elsewhere.senderId })).node).toBeNull();

    const before = await rowCounts(org.rowId);
    const create = await failure(partner, CreateCampaign, { input: campaignInput(mine.senderId) });
    expect(create.extensions?.code).toBe("FORBIDDEN");
    const sender = await failure(partner, CreateSender, {
      input: { address: uniqueLongCode(), kind: "LONG_CODE" },
    });
    expect(sender.extensions?.code).toBe("FORBIDDEN");
    const update = await failure(partner, UpdateCampaign, { input: { id: mine.id, name: "Mine" } });
    expect(update.extensions?.code).toBe("FORBIDDEN");
    const status = await failure(partner, SetCampaignStatus, {
      input: { id: mine.id, status: "PAUSED" },
    });
    expect(status.extensions?.code).toBe("FORBIDDEN");
    const key = await failure(partner, CreateApiKey, {
      input: { name: "sub", role: "PARTNER", campaignIds: [mine.id] },
    });
    expect(key.extensions?.code).toBe("FORBIDDEN");
    expect(await rowCounts(org.rowId)).toEqual(before);
  });
});

describe("API key secrets", () => {
  const leafFields = () => {
    const type = schema.getType("ApiKey");
    if (!isObjectType(type)) throw new Error("ApiKey is not an object type");
    return Object.values(type.getFields())
      .filter((field) => isLeafType(getNamedType(field.type)) && field.args.length === 0)
      .map((field) => field.name);
  };

  it("the ApiKey type has no field that could carry the secret", () => {
    const fields = leafFields();
    expect(fields).toContain("secretPrefix");
    expect(fields.filter((f) => /secret|hash/i.test(f))).toEqual(["secretPrefix"]);
  });

  it("createApiKey shows the secret once; reads and the stored row never hold it", async () => {
    const org = await newOrganization();
    const { secret, apiKey } = await keyOf(org.adminKey, "OPERATOR");
    expect(secret).toMatch(/^og_[A-Za-z0-9_-]{40,}$/);
    expect(secret.startsWith(apiKey.secretPrefix)).toBe(true);
    expect(apiKey.secretPrefix.length).toBeLessThan(12);

    // every scalar field of the key, read back through the API
    const fields = leafFields();
    const read = await post(
      { authorization: `Bearer ${org.adminKey}` },
      `query ($id: ID!) { node(id: $id) { ... on ApiKey { ${fields.join(" ")} } } }`,
      { id: apiKey.id },
    );
    expect(read.errors).toBeUndefined();
    const node = read.data?.node as Record<string, unknown>;
    expect(Object.keys(node).sort()).toEqual([...fields].sort());
    expect(node.secretPrefix).toBe(apiKey.secretPrefix);
    expect(JSON.stringify(node)).not.toContain(secret);
    expect(JSON.stringify(node)).not.toContain(sha256(secret));

    // the stored row: a SHA-256 hash, and no column equal to (or containing) the secret
    const row = await org.prisma.apiKey.findFirstOrThrow({
      where: { organizationId: org.rowId, role: "OPERATOR" },
    });
    expect(row.secretHash).toBe(sha256(secret));
    for (const [column, value] of Object.entries(row)) {
      expect(JSON.stringify(value) ?? "", column).not.toContain(secret);
    }
  });

  it("createOrganization's secret is stored only as a hash too", async () => {
    const org = await newOrganization();
    const row = await org.prisma.apiKey.findFirstOrThrow({ where: { organizationId: org.rowId } });
    expect(row.secretHash).toBe(sha256(org.adminKey));
    expect(row.isPlatform).toBe(false);
    for (const [column, value] of Object.entries(row)) {
      expect(JSON.stringify(value) ?? "", column).not.toContain(org.adminKey);
    }
  });
});
