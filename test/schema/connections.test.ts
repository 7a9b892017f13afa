// Relay connections: forward and backward paging, filters, page-size limits, empty connections, and
// node(id) for every kind of global ID.
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import type { ConnCampaignsQueryVariables } from "../generated/graphql.ts";
import { createCampaign, uniqueLongCode } from "../support/fixtures.ts";
import { execute, newOrganization, ok } from "../support/graphql.ts";
import { CreateApiKey } from "../support/documents.ts";

const Campaigns = graphql(`
  query ConnCampaigns(
    $first: Int
    $after: String
    $last: Int
    $before: String
    $status: CampaignStatus
  ) {
    campaigns(first: $first, after: $after, last: $last, before: $before, status: $status) {
      edges {
        cursor
        node {
          id
          name
          status
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`);

const EmptyLists = graphql(`
  query ConnEmptyLists {
    campaigns {
      edges {
        cursor
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
    senders {
      edges {
        cursor
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
    subscribers {
      edges {
        cursor
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
    consents {
      edges {
        cursor
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
    consentEvents {
      edges {
        cursor
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
    keywordEvents {
      edges {
        cursor
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`);

const CampaignConsents = graphql(`
  query ConnCampaignConsents($id: ID!, $first: Int, $after: String, $status: ConsentStatus) {
    campaign(id: $id) {
      consents(first: $first, after: $after, status: $status) {
        edges {
          cursor
          node {
            id
            status
          }
        }
        pageInfo {
          hasNextPage
          hasPreviousPage
          startCursor
          endCursor
        }
      }
    }
  }
`);

const SubscriberLists = graphql(`
  query ConnSubscriberLists($id: ID!) {
    subscriber(id: $id) {
      consents {
        id
      }
      history {
        edges {
          cursor
        }
        pageInfo {
          hasNextPage
          hasPreviousPage
          startCursor
          endCursor
        }
      }
    }
  }
`);

const Subscribers = graphql(`
  query ConnSubscribers($first: Int) {
    subscribers(first: $first) {
      edges {
        node {
          id
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
      }
    }
  }
`);

const Node = graphql(`
  query ConnNode($id: ID!) {
    node(id: $id) {
      __typename
      id
    }
  }
`);

const EMPTY_PAGE = {
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
};

const rowId = (globalId: string) => decodeGlobalID(globalId).id;

/** An organization with five campaigns C1…C5, made in that order; C1, C3 and C5 are ACTIVE. */
async function fiveCampaigns() {
  const org = await newOrganization();
  const names: string[] = [];
  const ids: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const campaign = await createCampaign(org.adminKey, { name: `C${i}`, active: i % 2 === 1 });
    names.push(campaign.name);
    ids.push(campaign.id);
  }
  return { org, names, ids };
}

type Page = Awaited<ReturnType<typeof page>>;
async function page(key: string, variables: ConnCampaignsQueryVariables) {
  return (await ok(key, Campaigns, variables)).campaigns;
}
const names = (p: Page) => p.edges.map((e) => e.node.name);

describe("campaigns connection", () => {
  it("pages forward two at a time, in creation order", async () => {
    const { org, ids } = await fiveCampaigns();

    const first = await page(org.adminKey, { first: 2 });
    expect(names(first)).toEqual(["C1", "C2"]);
    expect(first.edges.map((e) => e.node.id)).toEqual(ids.slice(0, 2));
    expect(first.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0].cursor,
      endCursor: first.edges[1].cursor,
    });
    expect(first.pageInfo.endCursor).toEqual(expect.any(String));

    const second = await page(org.adminKey, { first: 2, after: first.pageInfo.endCursor });
    expect(names(second)).toEqual(["C3", "C4"]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const last = await page(org.adminKey, { first: 2, after: second.pageInfo.endCursor });
    expect(names(last)).toEqual(["C5"]);
    expect(last.pageInfo).toMatchObject({
      hasNextPage: false,
      endCursor: last.edges[0].cursor,
    });

    const beyond = await page(org.adminKey, { first: 2, after: last.pageInfo.endCursor });
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toMatchObject({ hasNextPage: false, endCursor: null });

    // without arguments: everything (fewer than the default page of 20), in the same order
    const all = await page(org.adminKey, {});
    expect(all.edges.map((e) => e.node.id)).toEqual(ids);
    expect(all.pageInfo.hasNextPage).toBe(false);
  });

  it("knows a page that ends exactly at the last row has no next page", async () => {
    const { org } = await fiveCampaigns();
    expect((await page(org.adminKey, { first: 5 })).pageInfo.hasNextPage).toBe(false);
    expect((await page(org.adminKey, { first: 4 })).pageInfo.hasNextPage).toBe(true);
    const afterFour = await page(org.adminKey, {
      first: 1,
      after: (await page(org.adminKey, { first: 4 })).pageInfo.endCursor,
    });
    expect(names(afterFour)).toEqual(["C5"]);
    expect(afterFour.pageInfo.hasNextPage).toBe(false);
  });

  it("pages backward with last/before", async () => {
    const { org } = await fiveCampaigns();
    const tail = await page(org.adminKey, { last: 2 });
    expect(names(tail)).toEqual(["C4", "C5"]);
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const before = await page(org.adminKey, { last: 2, before: tail.pageInfo.startCursor });
    expect(names(before)).toEqual(["C2", "C3"]);
    expect(before.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    const head = await page(org.adminKey, { last: 2, before: before.pageInfo.startCursor });
    expect(names(head)).toEqual(["C1"]);
    expect(head.pageInfo.hasPreviousPage).toBe(false);
  });

  it("filters by status, and pages within the filter", async () => {
    const { org } = await fiveCampaigns();
    expect(names(await page(org.adminKey, { status: "ACTIVE" }))).toEqual(["C1", "C3", "C5"]);
    expect(names(await page(org.adminKey, { status: "DRAFT" }))).toEqual(["C2", "C4"]);
    expect(names(await page(org.adminKey, { status: "PAUSED" }))).toEqual([]);

    const first = await page(org.adminKey, { status: "ACTIVE", first: 2 });
    expect(names(first)).toEqual(["C1", "C3"]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await page(org.adminKey, {
      status: "ACTIVE",
      first: 2,
      after: first.pageInfo.endCursor,
    });
    expect(names(rest)).toEqual(["C5"]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    for (const edge of [...first.edges, ...rest.edges]) expect(edge.node.status).toBe("ACTIVE");
  });

  it("first: 0 returns no edges, and says whether there is anything to fetch", async () => {
    const { org } = await fiveCampaigns();
    const none = await page(org.adminKey, { first: 0 });
    expect(none.edges).toEqual([]);
    expect(none.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: null,
    });
    const empty = await newOrganization();
    expect(await page(empty.adminKey, { first: 0 })).toEqual(EMPTY_PAGE);
  });

  it.each<[ConnCampaignsQueryVariables, RegExp]>([
    [{ first: -1 }, /"first" must be a non-negative integer/],
    [{ last: -5 }, /"last" must be a non-negative integer/],
    [{ after: "not-a-cursor" }, /Invalid cursor/],
    [{ first: 1, before: "x", after: "y" }, /"before" and "after"/],
  ])("refuses %j with BAD_USER_INPUT", async (variables, message) => {
    const { org } = await fiveCampaigns();
    const result = await execute(org.adminKey, Campaigns, variables);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0].message).toMatch(message);
  });
});

/** Subscribers with an OPTED_IN consent (OPTED_OUT for every third) to a campaign, written directly. */
async function seedConsents(
  org: Awaited<ReturnType<typeof newOrganization>>,
  campaignId: string,
  count: number,
) {
  const phones = Array.from({ length: count }, () => uniqueLongCode());
  await org.prisma.subscriber.createMany({
    data: phones.map((phone) => ({ organizationId: org.rowId, phone })),
  });
  const subscribers = await org.prisma.subscriber.findMany({
    where: { organizationId: org.rowId, phone: { in: phones } },
    orderBy: { id: "asc" },
  });
  await org.prisma.consent.createMany({
    data: subscribers.map((s, i) => ({
      organizationId: org.rowId,
      subscriberId: s.id,
      campaignId: rowId(campaignId),
      status: i % 3 === 2 ? ("OPTED_OUT" as const) : ("OPTED_IN" as const),
      method: "IMPORT" as const,
      lastSequence: 0,
      updatedAt: new Date(),
    })),
  });
  return subscribers;
}

describe("other connections", () => {
  it("are empty with a closed pageInfo on a fresh organization", async () => {
    const org = await newOrganization();
    expect(await ok(org.adminKey, EmptyLists)).toEqual({
      campaigns: EMPTY_PAGE,
      senders: EMPTY_PAGE,
      subscribers: EMPTY_PAGE,
      consents: EMPTY_PAGE,
      consentEvents: EMPTY_PAGE,
      keywordEvents: EMPTY_PAGE,
    });
    const campaign = await createCampaign(org.adminKey);
    expect(await ok(org.adminKey, CampaignConsents, { id: campaign.id })).toEqual({
      campaign: { consents: EMPTY_PAGE },
    });
    const [subscriber] = await seedConsents(org, campaign.id, 1);
    await org.prisma.consent.deleteMany({ where: { subscriberId: subscriber.id } });
    expect(
      await ok(org.adminKey, SubscriberLists, { id: encodeGlobalID("Subscriber", subscriber.id) }),
    ).toEqual({ subscriber: { consents: [], history: EMPTY_PAGE } });
  });

  it("Campaign.consents pages and filters by status", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const other = await createCampaign(org.adminKey);
    await seedConsents(org, campaign.id, 6); // OPTED_IN ×4, OPTED_OUT ×2
    await seedConsents(org, other.id, 2);

    const first = (await ok(org.adminKey, CampaignConsents, { id: campaign.id, first: 3 }))
      .campaign!.consents;
    expect(first.edges).toHaveLength(3);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, endCursor: first.edges[2].cursor });
    const rest = (
      await ok(org.adminKey, CampaignConsents, {
        id: campaign.id,
        first: 3,
        after: first.pageInfo.endCursor,
      })
    ).campaign!.consents;
    expect(rest.edges).toHaveLength(3);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const seen = new Set([...first.edges, ...rest.edges].map((e) => e.node.id));
    expect(seen.size).toBe(6);

    const out = (await ok(org.adminKey, CampaignConsents, { id: campaign.id, status: "OPTED_OUT" }))
      .campaign!.consents;
    expect(out.edges.map((e) => e.node.status)).toEqual(["OPTED_OUT", "OPTED_OUT"]);
  });

  it("page sizes default to 20 and are capped at 100", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    await seedConsents(org, campaign.id, 101);
    const byDefault = (await ok(org.adminKey, Subscribers, {})).subscribers;
    expect(byDefault.edges).toHaveLength(20);
    expect(byDefault.pageInfo.hasNextPage).toBe(true);
    const capped = (await ok(org.adminKey, Subscribers, { first: 1000 })).subscribers;
    expect(capped.edges).toHaveLength(100);
    expect(capped.pageInfo.hasNextPage).toBe(true);
    const exact = (await ok(org.adminKey, Subscribers, { first: 100 })).subscribers;
    expect(exact.edges).toHaveLength(100);
  });
});

describe("node(id)", () => {
  it("resolves every kind of global ID to its type", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const apiKey = (
      await ok(org.adminKey, CreateApiKey, { input: { name: "reader", role: "VIEWER" } })
    ).createApiKey.apiKey;
    const [subscriber] = await seedConsents(org, campaign.id, 1);
    const consent = await org.prisma.consent.findFirstOrThrow({
      where: { subscriberId: subscriber.id },
    });
    const sender = await org.prisma.sender.findUniqueOrThrow({
      where: { id: rowId(campaign.senderId) },
    });
    const now = new Date();
    const event = await org.prisma.consentEvent.create({
      data: {
        organizationId: org.rowId,
        sequence: 1,
        subscriberId: subscriber.id,
        campaignId: rowId(campaign.id),
        consentId: consent.id,
        toStatus: "OPTED_IN",
        method: "IMPORT",
        occurredAt: now,
        recordedAt: now,
        prevHash: "",
        hash: "0".repeat(64),
      },
    });
    const inbound = await org.prisma.keywordEvent.create({
      data: {
        organizationId: org.rowId,
        sequence: 1,
        senderId: sender.id,
        from: subscriber.phone,
        to: sender.address,
        body: "HELP",
        intent: "HELP",
        receivedAt: now,
      },
    });
    await org.prisma.organization.update({
      where: { id: org.rowId },
      data: { ledgerSequence: 1, ledgerHeadHash: "0".repeat(64), keywordSequence: 1 },
    });

    const ids: Record<string, string> = {
      Organization: org.id,
      ApiKey: apiKey.id,
      Sender: campaign.senderId,
      Campaign: campaign.id,
      Subscriber: encodeGlobalID("Subscriber", subscriber.id),
      Consent: encodeGlobalID("Consent", consent.id),
      ConsentEvent: encodeGlobalID("ConsentEvent", event.id),
      KeywordEvent: encodeGlobalID("KeywordEvent", inbound.id),
    };
    for (const [typename, id] of Object.entries(ids)) {
      expect(decodeGlobalID(id).typename).toBe(typename);
      expect((await ok(org.adminKey, Node, { id })).node, typename).toEqual({
        __typename: typename,
        id,
      });
    }
    // the same row under another type's name is no node of that type
    const misnamed = encodeGlobalID("Campaign", rowId(campaign.senderId));
    expect((await ok(org.adminKey, Node, { id: misnamed })).node).toBeNull();
  });
});
