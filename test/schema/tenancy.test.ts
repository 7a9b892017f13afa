// Tenant isolation: every read and write of another organization's object is indistinguishable from
// a missing one, and malformed or mistyped global IDs read as missing too (never an internal error).
import { randomUUID } from "node:crypto";
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import { createCampaign, disclosures, uniqueLongCode } from "../support/fixtures.ts";
import {
  execute,
  failure,
  newOrganization,
  ok,
  rowCounts,
  type GqlError,
} from "../support/graphql.ts";
import {
  CreateApiKey,
  CreateCampaign,
  RevokeApiKey,
  SetCampaignStatus,
  UpdateCampaign,
} from "../support/documents.ts";

const Node = graphql(`
  query TenancyNode($id: ID!) {
    node(id: $id) {
      __typename
      id
    }
  }
`);

const Lookups = graphql(`
  query TenancyLookups($id: ID!) {
    campaign(id: $id) {
      id
    }
    subscriber(id: $id) {
      id
    }
  }
`);

const SubscriberByPhone = graphql(`
  query TenancySubscriberByPhone($phone: String!) {
    subscriber(phone: $phone) {
      id
    }
  }
`);

const Lists = graphql(`
  query TenancyLists($campaignId: ID, $subscriberId: ID) {
    campaigns(first: 50) {
      edges {
        node {
          id
        }
      }
    }
    senders(first: 50) {
      edges {
        node {
          id
        }
      }
    }
    subscribers(first: 50, campaignId: $campaignId) {
      edges {
        node {
          id
        }
      }
    }
    consents(first: 50, campaignId: $campaignId, subscriberId: $subscriberId) {
      edges {
        node {
          id
        }
      }
    }
    consentEvents(first: 50, campaignId: $campaignId, subscriberId: $subscriberId) {
      edges {
        node {
          id
        }
      }
    }
    keywordEvents(first: 50) {
      edges {
        node {
          id
        }
      }
    }
  }
`);

const CampaignsAfter = graphql(`
  query TenancyCampaignsAfter($after: String) {
    campaigns(first: 100, after: $after) {
      edges {
        cursor
        node {
          id
        }
      }
    }
  }
`);

const rowId = (globalId: string) => decodeGlobalID(globalId).id;

/**
 * An organization with an ACTIVE campaign on its own sender, a VIEWER key, and one subscriber with
 * a consent, a ledger event and an inbound keyword event. The consent rows are written straight to
 * the database: these tests are about who may read them, not how they are made.
 */
async function tenant() {
  const org = await newOrganization();
  const campaign = await createCampaign(org.adminKey);
  const viewer = await ok(org.adminKey, CreateApiKey, {
    input: { name: "viewer", role: "VIEWER" },
  });
  const prisma = org.prisma;
  const sender = await prisma.sender.findUniqueOrThrow({ where: { id: rowId(campaign.senderId) } });
  const phone = uniqueLongCode();
  const now = new Date();
  const subscriber = await prisma.subscriber.create({
    data: { organizationId: org.rowId, phone },
  });
  const consent = await prisma.consent.create({
    data: {
      organizationId: org.rowId,
      subscriberId: subscriber.id,
      campaignId: rowId(campaign.id),
      status: "OPTED_IN",
      method: "API",
      lastSequence: 1,
      updatedAt: now,
    },
  });
  const consentEvent = await prisma.consentEvent.create({
    data: {
      organizationId: org.rowId,
      sequence: 1,
      subscriberId: subscriber.id,
      campaignId: rowId(campaign.id),
      consentId: consent.id,
      toStatus: "OPTED_IN",
      method: "API",
      occurredAt: now,
      recordedAt: now,
      prevHash: "",
      hash: "0".repeat(64),
    },
  });
  const keywordEvent = await prisma.keywordEvent.create({
    data: {
      organizationId: org.rowId,
      sequence: 1,
      senderId: sender.id,
      from: phone,
      to: sender.address,
      body: "JOIN",
      intent: "OPT_IN",
      campaignIds: [rowId(campaign.id)],
      receivedAt: now,
    },
  });
  await prisma.organization.update({
    where: { id: org.rowId },
    data: { ledgerSequence: 1, ledgerHeadHash: "0".repeat(64), keywordSequence: 1 },
  });
  const ids = {
    Organization: org.id,
    ApiKey: viewer.createApiKey.apiKey.id,
    Sender: campaign.senderId,
    Campaign: campaign.id,
    Subscriber: encodeGlobalID("Subscriber", subscriber.id),
    Consent: encodeGlobalID("Consent", consent.id),
    ConsentEvent: encodeGlobalID("ConsentEvent", consentEvent.id),
    KeywordEvent: encodeGlobalID("KeywordEvent", keywordEvent.id),
  };
  return { ...org, campaign, viewerKey: viewer.createApiKey.secret, phone, ids };
}

type Tenant = Awaited<ReturnType<typeof tenant>>;

/** What a client can tell apart: status, code, field, and the message with quoted ids blanked. */
const shape = (error: GqlError & { status: number }) => ({
  status: error.status,
  code: error.extensions?.code,
  field: error.extensions?.field,
  message: error.message.replace(/"[^"]*"/g, '"…"'),
});

/** A well-formed global ID of the given type that names no row. */
const unknownId = (typename: string) => encodeGlobalID(typename, randomUUID());

async function snapshot(a: Tenant, b: Tenant) {
  return {
    a: await rowCounts(a.rowId),
    b: await rowCounts(b.rowId),
    bCampaign: await b.prisma.campaign.findUniqueOrThrow({ where: { id: rowId(b.campaign.id) } }),
    bKeys: await b.prisma.apiKey.findMany({ where: { organizationId: b.rowId } }),
  };
}

describe("reading another organization's objects", () => {
  it("node(id) of each kind of B's objects is null, exactly like an unknown id", async () => {
    const [a, b] = [await tenant(), await tenant()];
    for (const [typename, id] of Object.entries(a.ids)) {
      // the control: A sees its own object of this kind
      const own = await ok(a.adminKey, Node, { id });
      expect(own.node, typename).toEqual({ __typename: typename, id });

      const foreign = await execute(a.adminKey, Node, {
        id: b.ids[typename as keyof Tenant["ids"]],
      });
      const unknown = await execute(a.adminKey, Node, { id: unknownId(typename) });
      expect(foreign, typename).toEqual({ status: 200, data: { node: null }, errors: undefined });
      expect(foreign, typename).toEqual(unknown);
    }
  });

  it("campaign(id), subscriber(id) and subscriber(phone) of B's read as missing", async () => {
    const [a, b] = [await tenant(), await tenant()];
    expect((await ok(a.adminKey, Lookups, { id: a.ids.Campaign })).campaign?.id).toBe(
      a.ids.Campaign,
    );
    expect((await ok(a.adminKey, Lookups, { id: a.ids.Subscriber })).subscriber?.id).toBe(
      a.ids.Subscriber,
    );
    expect((await ok(a.adminKey, SubscriberByPhone, { phone: a.phone })).subscriber?.id).toBe(
      a.ids.Subscriber,
    );

    for (const id of [b.ids.Campaign, b.ids.Subscriber]) {
      const foreign = await execute(a.adminKey, Lookups, { id });
      expect(foreign).toEqual({
        status: 200,
        data: { campaign: null, subscriber: null },
        errors: undefined,
      });
    }
    const byPhone = await execute(a.adminKey, SubscriberByPhone, { phone: b.phone });
    expect(byPhone).toEqual({ status: 200, data: { subscriber: null }, errors: undefined });
    expect(byPhone).toEqual(
      await execute(a.adminKey, SubscriberByPhone, { phone: uniqueLongCode() }),
    );
  });

  it("A's lists never contain B's rows, and filters by B's ids find nothing", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const ids = (connection: { edges: { node: { id: string } }[] }) =>
      connection.edges.map((e) => e.node.id);

    for (const t of [a, b]) {
      const lists = await ok(t.adminKey, Lists, {});
      expect(ids(lists.campaigns)).toEqual([t.ids.Campaign]);
      expect(ids(lists.senders)).toEqual([t.ids.Sender]);
      expect(ids(lists.subscribers)).toEqual([t.ids.Subscriber]);
      expect(ids(lists.consents)).toEqual([t.ids.Consent]);
      expect(ids(lists.consentEvents)).toEqual([t.ids.ConsentEvent]);
      expect(ids(lists.keywordEvents)).toEqual([t.ids.KeywordEvent]);
    }
    // A's own filters find A's rows ...
    const own = await ok(a.adminKey, Lists, {
      campaignId: a.ids.Campaign,
      subscriberId: a.ids.Subscriber,
    });
    expect(ids(own.subscribers)).toEqual([a.ids.Subscriber]);
    expect(ids(own.consents)).toEqual([a.ids.Consent]);
    expect(ids(own.consentEvents)).toEqual([a.ids.ConsentEvent]);
    // ... and with B's ids, nothing
    const filtered = await ok(a.adminKey, Lists, {
      campaignId: b.ids.Campaign,
      subscriberId: b.ids.Subscriber,
    });
    expect(ids(filtered.subscribers)).toEqual([]);
    expect(ids(filtered.consents)).toEqual([]);
    expect(ids(filtered.consentEvents)).toEqual([]);
    const bySubscriber = await ok(a.adminKey, Lists, { subscriberId: b.ids.Subscriber });
    expect(ids(bySubscriber.consents)).toEqual([]);
    expect(ids(bySubscriber.consentEvents)).toEqual([]);

    // B's cursor handed to A's list: still only A's rows, and no internal error
    const bCursor = (await ok(b.adminKey, CampaignsAfter, {})).campaigns.edges[0].cursor;
    const after = await execute(a.adminKey, CampaignsAfter, { after: bCursor });
    expect(after.errors?.map((e) => e.extensions?.code) ?? []).not.toContain(
      "INTERNAL_SERVER_ERROR",
    );
    for (const edge of after.data?.campaigns.edges ?? []) expect(edge.node.id).toBe(a.ids.Campaign);
  });
});

describe("writing another organization's objects", () => {
  it("updateCampaign and setCampaignStatus of B's campaign are NOT_FOUND like an unknown id", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const before = await snapshot(a, b);

    const update = await failure(a.adminKey, UpdateCampaign, {
      input: { id: b.ids.Campaign, name: "Taken over" },
    });
    const updateUnknown = await failure(a.adminKey, UpdateCampaign, {
      input: { id: unknownId("Campaign"), name: "Taken over" },
    });
    expect(update.extensions?.code).toBe("NOT_FOUND");
    expect(shape(update)).toEqual(shape(updateUnknown));

    for (const status of ["PAUSED", "ARCHIVED", "ACTIVE"] as const) {
      const set = await failure(a.adminKey, SetCampaignStatus, {
        input: { id: b.ids.Campaign, status },
      });
      const setUnknown = await failure(a.adminKey, SetCampaignStatus, {
        input: { id: unknownId("Campaign"), status },
      });
      expect(set.extensions?.code).toBe("NOT_FOUND");
      expect(shape(set)).toEqual(shape(setUnknown));
    }
    expect(await snapshot(a, b)).toEqual(before);
  });

  it("createCampaign on B's sender is NOT_FOUND like an unknown sender", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const before = await snapshot(a, b);
    const input = (senderId: string) => ({
      name: "On someone else's number",
      purpose: "MARKETING" as const,
      senderId,
      disclosures: disclosures(),
    });
    const foreign = await failure(a.adminKey, CreateCampaign, { input: input(b.ids.Sender) });
    const unknown = await failure(a.adminKey, CreateCampaign, {
      input: input(unknownId("Sender")),
    });
    expect(foreign.extensions?.code).toBe("NOT_FOUND");
    expect(shape(foreign)).toEqual(shape(unknown));
    expect(await snapshot(a, b)).toEqual(before);
  });

  it("a PARTNER key for B's campaign is NOT_FOUND like an unknown campaign", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const before = await snapshot(a, b);
    const input = (campaignIds: string[]) => ({
      name: "partner",
      role: "PARTNER" as const,
      campaignIds,
    });
    const foreign = await failure(a.adminKey, CreateApiKey, { input: input([b.ids.Campaign]) });
    const mixed = await failure(a.adminKey, CreateApiKey, {
      input: input([a.ids.Campaign, b.ids.Campaign]),
    });
    const unknown = await failure(a.adminKey, CreateApiKey, {
      input: input([unknownId("Campaign")]),
    });
    expect(foreign.extensions?.code).toBe("NOT_FOUND");
    expect(shape(foreign)).toEqual(shape(unknown));
    expect(shape(mixed)).toEqual(shape(unknown));
    expect(await snapshot(a, b)).toEqual(before);
  });

  it("revokeApiKey of B's key is NOT_FOUND like an unknown key, and B's key keeps working", async () => {
    const [a, b] = [await tenant(), await tenant()];
    const before = await snapshot(a, b);
    const foreign = await failure(a.adminKey, RevokeApiKey, { id: b.ids.ApiKey });
    const unknown = await failure(a.adminKey, RevokeApiKey, { id: unknownId("ApiKey") });
    expect(foreign.extensions?.code).toBe("NOT_FOUND");
    expect(shape(foreign)).toEqual(shape(unknown));
    expect(await snapshot(a, b)).toEqual(before);
    expect((await ok(b.viewerKey, Node, { id: b.ids.Campaign })).node?.id).toBe(b.ids.Campaign);
  });
});

describe("malformed and mistyped global IDs", () => {
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
  const malformed = (t: Tenant) => [
    "x",
    "",
    "%%%",
    b64("Campaign:not-a-uuid"),
    b64("Campaign:"),
    b64(`Campaign:${rowId(t.ids.Campaign)}:extra`),
    rowId(t.ids.Campaign), // a bare database id is not a global ID
  ];

  it("typed lookups answer null without an error", async () => {
    const a = await tenant();
    const ids = [...malformed(a), a.ids.Sender, a.ids.Organization]; // last two: other types
    for (const id of ids) {
      const result = await execute(a.adminKey, Lookups, { id });
      expect(result, id).toEqual({
        status: 200,
        data: { campaign: null, subscriber: null },
        errors: undefined,
      });
    }
  });

  it("node() never fails with an internal error", async () => {
    const a = await tenant();
    for (const id of [
      ...malformed(a),
      b64(`Nope:${randomUUID()}`),
      b64(`Disclosures:${randomUUID()}`),
      b64(`CampaignStatus:${randomUUID()}`),
    ]) {
      const result = await execute(a.adminKey, Node, { id });
      expect(result.data, id).toEqual({ node: null });
      for (const error of result.errors ?? []) {
        expect(error.extensions?.code, `${id}: ${error.message}`).toBe("BAD_USER_INPUT");
      }
    }
    // well-formed ids of a real node type with no such row: plainly null
    for (const id of [b64("Campaign:not-a-uuid"), unknownId("Campaign"), unknownId("ApiKey")]) {
      expect(await execute(a.adminKey, Node, { id }), id).toEqual({
        status: 200,
        data: { node: null },
        errors: undefined,
      });
    }
  });

  // KNOWN BUG (src/schema/builder.ts, not ours to change): node() answers an id that does not
  // decode ("x"), or names a type that is not a Node, with a BAD_USER_INPUT error that describes
  // the schema ("Expected ref to resolve to a Object type, but got Enum") instead of null. Turn
  // this into `it` once the relay plugin's decodeGlobalID/node resolve are made lenient.
  it("node() of a malformed id is null without an error, like an unknown id", async () => {
    const a = await tenant();
    for (const id of ["x", b64(`Nope:${randomUUID()}`), b64(`CampaignStatus:${randomUUID()}`)]) {
      expect(await execute(a.adminKey, Node, { id }), id).toEqual({
        status: 200,
        data: { node: null },
        errors: undefined,
      });
    }
  });

  it("lists filtered by a malformed or mistyped id are empty, not errors", async () => {
    const a = await tenant();
    for (const id of [...malformed(a).filter((id) => id !== ""), a.ids.Sender]) {
      const result = await execute(a.adminKey, Lists, { campaignId: id, subscriberId: id });
      expect(result.errors, id).toBeUndefined();
      expect(result.data?.subscribers.edges, id).toEqual([]);
      expect(result.data?.consents.edges, id).toEqual([]);
      expect(result.data?.consentEvents.edges, id).toEqual([]);
    }
  });

  it("mutations answer NOT_FOUND and write nothing", async () => {
    const a = await tenant();
    const before = await rowCounts(a.rowId);
    const campaignBefore = await a.prisma.campaign.findUniqueOrThrow({
      where: { id: rowId(a.ids.Campaign) },
    });
    const wrongType = { campaign: a.ids.Sender, sender: a.ids.Campaign, apiKey: a.ids.Campaign };
    const attempts: [string, () => Promise<GqlError & { status: number }>][] = [];
    for (const id of [...malformed(a), wrongType.campaign]) {
      attempts.push(
        [
          `updateCampaign ${id}`,
          () => failure(a.adminKey, UpdateCampaign, { input: { id, name: "New" } }),
        ],
        [
          `setCampaignStatus ${id}`,
          () => failure(a.adminKey, SetCampaignStatus, { input: { id, status: "PAUSED" } }),
        ],
        [
          `createApiKey ${id}`,
          () =>
            failure(a.adminKey, CreateApiKey, {
              input: { name: "p", role: "PARTNER", campaignIds: [id] },
            }),
        ],
      );
    }
    for (const id of [...malformed(a), wrongType.sender]) {
      attempts.push([
        `createCampaign ${id}`,
        () =>
          failure(a.adminKey, CreateCampaign, {
            input: { name: "C", purpose: "MARKETING", senderId: id, disclosures: disclosures() },
          }),
      ]);
    }
    for (const id of [...malformed(a), wrongType.apiKey]) {
      attempts.push([`revokeApiKey ${id}`, () => failure(a.adminKey, RevokeApiKey, { id })]);
    }
    for (const [label, attempt] of attempts) {
      const error = await attempt();
      expect(error.extensions?.code, `${label}: ${error.message}`).toBe("NOT_FOUND");
      expect(error.message, label).toMatch(/^No [a-z ]+ with id "/i);
    }
    expect(await rowCounts(a.rowId)).toEqual(before);
    expect(
      await a.prisma.campaign.findUniqueOrThrow({ where: { id: rowId(a.ids.Campaign) } }),
    ).toEqual(campaignBefore);
  });

  // KNOWN BUG (src/schema/subscriber.ts, consent.ts, consent-event.ts): the list filters test the
  // id for truthiness, so `campaignId: ""` / `subscriberId: ""` drop the filter and list every row
  // of the organization instead of none. Fix: `args.campaignId != null ? … : {}`.
  it("lists filtered by an empty id are empty", async () => {
    const a = await tenant();
    const result = await ok(a.adminKey, Lists, { campaignId: "", subscriberId: "" });
    expect(result.subscribers.edges).toEqual([]);
    expect(result.consents.edges).toEqual([]);
    expect(result.consentEvents.edges).toEqual([]);
  });
});
