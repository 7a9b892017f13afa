// A PARTNER key sees its campaigns and what hangs off them, through every path of the graph: each
// edge of the schema (every object type's field that returns an object) is walked from the roots,
// the list made from the schema itself, so a field added without the visibility rule fails here.
// The organization holds, beside the partner's campaign, campaigns the key may not see on the same
// sender and on another one, a subscriber only those have, and inbound messages touching both.
import { encodeGlobalID } from "@pothos/plugin-relay";
import {
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLType,
} from "graphql";
import { createClient } from "graphql-ws";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { schema } from "../../src/schema/index.ts";
import { createImportJob } from "../../src/services/import.ts";
import { testApp } from "../support/app.ts";
import { createCampaign, createSender } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[];
}

let port = 0;

async function post(key: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

async function must(key: string, query: string, variables: Record<string, unknown> = {}) {
  const result = await post(key, query, variables);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
}

const OPT_IN = `mutation($phone: String!, $c: ID!, $evidence: JSON) {
  optIn(input: { phone: $phone, campaignId: $c, method: API, evidence: $evidence }) { changed }
}`;
const INBOUND = `mutation($from: String!, $to: String!, $body: String!) {
  receiveInboundMessage(input: { from: $from, to: $to, body: $body }) { keywordEvent { id } }
}`;

const PHONE_SHARED = "+14155550161";
const PHONE_HIDDEN = "+14155550162";

interface World {
  partnerKey: string;
  partnerCampaignId: string;
  ownSenderAddress: string;
  otherSenderAddress: string;
  adminKey: string;
  /** global and row ids, names and values the PARTNER key must never read */
  hidden: string[];
  /** global ids of every object of the organization, by type: the starting points of the walk */
  ids: Map<string, string[]>;
}

let world: World;

async function setUp(): Promise<World> {
  const org = await newOrganization();
  const ownSender = await createSender(org.adminKey);
  const otherSender = await createSender(org.adminKey);
  const mine = await createCampaign(org.adminKey, {
    senderId: ownSender.id,
    name: "Partner deals",
  });
  const hiddenSameSender = await createCampaign(org.adminKey, {
    senderId: ownSender.id,
    name: "HIDDEN campaign one",
  });
  const hiddenOtherSender = await createCampaign(org.adminKey, {
    senderId: otherSender.id,
    name: "HIDDEN campaign two",
  });
  const evidence = (note: string) => ({ ip: "203.0.113.9", note });
  for (const [phone, campaign, note] of [
    [PHONE_SHARED, mine.id, "partner evidence"],
    [PHONE_SHARED, hiddenSameSender.id, "HIDDEN evidence one"],
    [PHONE_SHARED, hiddenOtherSender.id, "HIDDEN evidence two"],
    [PHONE_HIDDEN, hiddenOtherSender.id, "HIDDEN evidence three"],
  ] as const) {
    await must(org.adminKey, OPT_IN, { phone, c: campaign, evidence: evidence(note) });
  }
  // Touches all three campaigns, received on the sender the partner has no campaign on.
  await must(org.adminKey, INBOUND, {
    from: PHONE_SHARED,
    to: otherSender.address,
    body: "STOPALL",
  });
  // Touches a hidden campaign only.
  await must(org.adminKey, INBOUND, {
    from: PHONE_HIDDEN,
    to: otherSender.address,
    body: "STOP",
  });
  const created = await must(
    org.adminKey,
    `mutation($c: ID!) { createApiKey(input: { name: "partner", role: PARTNER, campaignIds: [$c] }) { secret } }`,
    { c: mine.id },
  );
  const partnerKey = (created.createApiKey as { secret: string }).secret;

  const job = await createImportJob((await testApp()).runtime, {
    organizationId: org.rowId,
    apiKeyId: null,
    fileName: "HIDDEN list.csv",
    campaignId: null,
  });
  const prisma = org.prisma;
  const where = { organizationId: org.rowId };
  const mineRow = (
    await prisma.campaign.findFirstOrThrow({ where: { name: "Partner deals", ...where } })
  ).id;
  const [senders, campaigns, subscribers, consents, consentEvents, keywordEvents, apiKeys] =
    await Promise.all([
      prisma.sender.findMany({ where }),
      prisma.campaign.findMany({ where }),
      prisma.subscriber.findMany({ where }),
      prisma.consent.findMany({ where }),
      prisma.consentEvent.findMany({ where }),
      prisma.keywordEvent.findMany({ where }),
      prisma.apiKey.findMany({ where }),
    ]);
  const ids = new Map<string, string[]>([
    ["Organization", [encodeGlobalID("Organization", org.rowId)]],
    ["Sender", senders.map((r) => encodeGlobalID("Sender", r.id))],
    ["Campaign", campaigns.map((r) => encodeGlobalID("Campaign", r.id))],
    ["Subscriber", subscribers.map((r) => encodeGlobalID("Subscriber", r.id))],
    ["Consent", consents.map((r) => encodeGlobalID("Consent", r.id))],
    ["ConsentEvent", consentEvents.map((r) => encodeGlobalID("ConsentEvent", r.id))],
    ["KeywordEvent", keywordEvents.map((r) => encodeGlobalID("KeywordEvent", r.id))],
    ["ApiKey", apiKeys.map((r) => encodeGlobalID("ApiKey", r.id))],
    ["ImportJob", [encodeGlobalID("ImportJob", job.id)]],
  ]);
  const hiddenRows = [
    ...senders.filter((r) => r.address === otherSender.address),
    ...campaigns.filter((r) => r.id !== mineRow),
    ...subscribers.filter((r) => r.phone === PHONE_HIDDEN),
    ...consents.filter((r) => r.campaignId !== mineRow),
    ...consentEvents.filter((r) => r.campaignId !== mineRow),
    ...keywordEvents.filter((r) => !r.campaignIds.includes(mineRow)),
    ...apiKeys,
    job,
  ];
  const typeOf = new Map<object, string>();
  senders.forEach((r) => typeOf.set(r, "Sender"));
  campaigns.forEach((r) => typeOf.set(r, "Campaign"));
  subscribers.forEach((r) => typeOf.set(r, "Subscriber"));
  consents.forEach((r) => typeOf.set(r, "Consent"));
  consentEvents.forEach((r) => typeOf.set(r, "ConsentEvent"));
  keywordEvents.forEach((r) => typeOf.set(r, "KeywordEvent"));
  apiKeys.forEach((r) => typeOf.set(r, "ApiKey"));
  typeOf.set(job, "ImportJob");
  const hidden = [
    ...hiddenRows.flatMap((r) => [r.id, encodeGlobalID(typeOf.get(r)!, r.id)]),
    "HIDDEN",
    PHONE_HIDDEN,
  ];
  return {
    partnerKey,
    partnerCampaignId: mine.id,
    ownSenderAddress: ownSender.address,
    otherSenderAddress: otherSender.address,
    adminKey: org.adminKey,
    hidden,
    ids,
  };
}

// ---------------------------------------------------------------------------------------------
// The walk

const objectOf = (type: GraphQLType): GraphQLObjectType | null => {
  const named = getNamedType(type);
  return isObjectType(named) ? named : null;
};

const isRequired = (type: GraphQLType) => isNonNullType(type);

/** Arguments for a field: the required ones, a page size, and a phone for `subscriber`. */
function argumentsOf(field: GraphQLField<unknown, unknown>): string | null {
  const values: Record<string, string> = {
    id: JSON.stringify(
      field.name === "importJob" ? world.ids.get("ImportJob")![0] : world.partnerCampaignId,
    ),
    campaignId: JSON.stringify(world.partnerCampaignId),
    phone: JSON.stringify(PHONE_SHARED),
    phones: JSON.stringify([PHONE_SHARED]),
    first: "20",
  };
  const parts: string[] = [];
  for (const arg of field.args) {
    const wanted =
      isRequired(arg.type) ||
      arg.name === "first" ||
      (field.name === "subscriber" && arg.name === "phone");
    if (!wanted) continue;
    if (values[arg.name] === undefined) return null;
    parts.push(`${arg.name}: ${values[arg.name]}`);
  }
  return parts.length ? `(${parts.join(", ")})` : "";
}

/** Everything readable of an object without arguments: its scalars, and `id` through Node. */
function leaf(type: GraphQLObjectType): string {
  const fields = Object.values(type.getFields());
  if (fields.some((f) => f.name === "edges")) {
    const node = objectOf(type.getFields().edges.type)!.getFields().node;
    return `edges { cursor node { ${leaf(objectOf(node.type)!)} } }`;
  }
  const scalars = fields
    .filter((f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !isRequired(a.type)))
    .map((f) => f.name);
  return ["__typename", ...scalars].join(" ");
}

interface Edge {
  type: string;
  field: string;
}

interface Route {
  /** the selection that reaches the type, with a hole for the type's own selection */
  wrap: (inner: string) => string;
}

/** How each object type is reached from Query: through `node(id)` for each object of that type,
 * otherwise through the shortest chain of fields. */
function routes(): Map<string, Route[]> {
  const query = schema.getQueryType()!;
  const found = new Map<string, Route[]>([["Query", [{ wrap: (inner) => `{ ${inner} }` }]]]);
  for (const [typename, ids] of world.ids) {
    found.set(
      typename,
      ids.map((id) => ({
        wrap: (inner) => `{ node(id: ${JSON.stringify(id)}) { ... on ${typename} { ${inner} } } }`,
      })),
    );
  }
  let frontier: { type: GraphQLObjectType; routes: Route[] }[] = [
    { type: query, routes: [{ wrap: (inner) => `{ ${inner} }` }] },
  ];
  for (const typename of world.ids.keys()) {
    frontier.push({
      type: schema.getType(typename) as GraphQLObjectType,
      routes: found.get(typename)!,
    });
  }
  while (frontier.length) {
    const next: typeof frontier = [];
    for (const { type, routes: parents } of frontier) {
      for (const field of Object.values(type.getFields())) {
        const target = objectOf(field.type);
        if (!target || found.has(target.name) || (type === query && field.name === "node"))
          continue;
        const args = argumentsOf(field);
        if (args === null) continue;
        const reached = parents.map((parent) => ({
          wrap: (inner: string) => parent.wrap(`${field.name}${args} { ${inner} }`),
        }));
        found.set(target.name, reached);
        next.push({ type: target, routes: reached });
      }
    }
    frontier = next;
  }
  return found;
}

/** Every field of every object type reachable from Query that returns objects. */
function edgesOf(reachable: Set<string>): Edge[] {
  return [...reachable]
    .filter((name) => !name.startsWith("__"))
    .flatMap((name) =>
      Object.values((schema.getType(name) as GraphQLObjectType).getFields())
        .filter((field) => objectOf(field.type) !== null)
        .map((field) => ({ type: name, field: field.name })),
    );
}

function leaks(text: string): string[] {
  return world.hidden.filter((secret) => text.includes(secret));
}

beforeAll(async () => {
  port = (await testApp()).server.port;
  world = await setUp();
});

describe("what a PARTNER key sees", () => {
  it("walks every edge of the schema and reads nothing outside the key's campaigns", async () => {
    const reached = routes();
    const edges = edgesOf(new Set(reached.keys()));
    // The walk covers the graph: every type with edges is reached (mutation payloads aside).
    const unreached = Object.values(schema.getTypeMap())
      .filter(
        (t) =>
          isObjectType(t) &&
          !t.name.startsWith("__") &&
          ![schema.getMutationType(), schema.getSubscriptionType()].includes(t) &&
          !t.name.endsWith("Payload") &&
          !reached.has(t.name),
      )
      .map((t) => t.name);
    expect(unreached).toEqual([]);
    expect(edges.length).toBeGreaterThan(30);

    const failures: string[] = [];
    let answered = 0;
    for (const edge of edges) {
      const type = schema.getType(edge.type) as GraphQLObjectType;
      const field = type.getFields()[edge.field];
      const args = argumentsOf(field);
      const isNode = edge.type === "Query" && field.name === "node";
      if (args === null && !isNode) {
        failures.push(`${edge.type}.${edge.field}: no arguments to call it with`);
        continue;
      }
      const target = objectOf(field.type)!;
      const selections = isNode
        ? [...world.ids.values()]
            .flat()
            .map((id) => `node(id: ${JSON.stringify(id)}) { __typename ... on Node { id } }`)
        : [`${field.name}${args} { ${leaf(target)} }`];
      for (const route of reached.get(edge.type)!) {
        for (const selection of selections) {
          const query = route.wrap(selection);
          const result = await post(world.partnerKey, query);
          const text = JSON.stringify(result);
          const leaked = leaks(text);
          if (leaked.length)
            failures.push(`${edge.type}.${edge.field} leaks ${leaked.join(", ")}: ${query}`);
          // Refused objects would show up as errors: a field must filter, not fail. Only a root
          // field the key's role may not use at all (importJob) answers FORBIDDEN.
          const refusals = (result.errors ?? []).filter(
            (e) => !(e.extensions?.code === "FORBIDDEN" && e.path?.length === 1),
          );
          if (refusals.length)
            failures.push(
              `${edge.type}.${edge.field} fails: ${JSON.stringify(result.errors)} ${query}`,
            );
          if (!result.errors) answered += 1;
        }
      }
    }
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(edges.length);
  });

  it("sees a message that touched its campaign and others, with only its own consent changes", async () => {
    const data = await must(
      world.partnerKey,
      `{ keywordEvents(first: 20) { edges { node { body sender { address } campaigns { id name }
         consentEvents { evidence campaign { id name keywords } } } } } }`,
    );
    const nodes = (
      data.keywordEvents as {
        edges: {
          node: {
            body: string;
            sender: { address: string } | null;
            campaigns: { id: string }[];
            consentEvents: { campaign: { id: string } }[];
          };
        }[];
      }
    ).edges.map((e) => e.node);
    expect(nodes.map((n) => n.body)).toEqual(["STOPALL"]);
    expect(nodes[0].sender).toBeNull();
    expect(nodes[0].campaigns.map((c) => c.id)).toEqual([world.partnerCampaignId]);
    expect(nodes[0].consentEvents.map((e) => e.campaign.id)).toEqual([world.partnerCampaignId]);
    expect(leaks(JSON.stringify(data))).toEqual([]);
  });

  it("reads the same through keywordEventReceived", async () => {
    const received: Result[] = [];
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${world.partnerKey}` },
      retryAttempts: 0,
    });
    try {
      const done = new Promise<void>((resolve, reject) => {
        client.subscribe(
          {
            query: `subscription { keywordEventReceived { body sender { address }
              consentEvents { evidence campaign { id name keywords stats { optedIn } } } } }`,
          },
          {
            next: (value) => {
              received.push(value as Result);
              resolve();
            },
            error: reject,
            complete: () => resolve(),
          },
        );
      });
      // Live: the key's campaign and a hidden one on the same sender change together.
      await new Promise((r) => setTimeout(r, 500));
      await must(world.adminKey, OPT_IN, {
        phone: "+14155550163",
        c: world.partnerCampaignId,
        evidence: { note: "partner evidence" },
      });
      const hiddenOne = (world.ids.get("Campaign") ?? []).find(
        (id) => id !== world.partnerCampaignId && world.hidden.includes(id),
      )!;
      await must(world.adminKey, OPT_IN, {
        phone: "+14155550163",
        c: hiddenOne,
        evidence: { note: "HIDDEN evidence four" },
      });
      await must(world.adminKey, INBOUND, {
        from: "+14155550163",
        to: world.ownSenderAddress,
        body: "STOP",
      });
      await done;
    } finally {
      await client.dispose();
    }
    expect(received).toHaveLength(1);
    expect(received[0].errors).toBeUndefined();
    const event = received[0].data!.keywordEventReceived as {
      sender: { address: string };
      consentEvents: { campaign: { id: string } }[];
    };
    expect(event.sender.address).toBe(world.ownSenderAddress);
    expect(event.consentEvents.map((e) => e.campaign.id)).toEqual([world.partnerCampaignId]);
    expect(leaks(JSON.stringify(received))).toEqual([]);
  });
});
