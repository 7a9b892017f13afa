// Bad input, mutation by mutation: every refusal carries its code (BAD_USER_INPUT, CONFLICT,
// NOT_FOUND), names the field at fault, and writes nothing. Plus the rules that are only visible
// through several calls: disclosure versions, the campaign status machine, keyword ownership.
import { createHash, randomInt, randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import type {
  CampaignPurpose,
  CampaignStatus,
  DisclosuresInput,
  Role,
  SenderKind,
} from "../generated/graphql.ts";
import { PLATFORM_KEY, testApp } from "../support/app.ts";
import { createCampaign, createSender, disclosures, uniqueLongCode } from "../support/fixtures.ts";
import {
  execute,
  failure,
  newOrganization,
  ok,
  rowCounts,
  type GqlError,
} from "../support/graphql.ts";
import { CreateApiKey, CreateSender } from "../support/documents.ts";

const CreateOrganization = graphql(`
  mutation MutCreateOrganization($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      organization {
        id
        name
      }
      secret
    }
  }
`);

const RevokeApiKey = graphql(`
  mutation MutRevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      apiKey {
        id
        revokedAt
      }
    }
  }
`);

const CreateCampaign = graphql(`
  mutation MutCreateCampaign($input: CreateCampaignInput!) {
    createCampaign(input: $input) {
      campaign {
        id
        name
        purpose
        status
        keywords
        doubleOptIn
        disclosures {
          version
          termsUrl
          privacyUrl
          consentLanguage
          consentLanguageHash
        }
      }
    }
  }
`);

const UpdateCampaign = graphql(`
  mutation MutUpdateCampaign($input: UpdateCampaignInput!) {
    updateCampaign(input: $input) {
      campaign {
        id
        name
        keywords
        doubleOptIn
        disclosures {
          version
          helpText
          consentLanguage
          consentLanguageHash
        }
        disclosureHistory {
          version
          helpText
          consentLanguage
          consentLanguageHash
        }
      }
    }
  }
`);

const SetCampaignStatus = graphql(`
  mutation MutSetCampaignStatus($input: SetCampaignStatusInput!) {
    setCampaignStatus(input: $input) {
      campaign {
        id
        status
        disclosureHistory {
          version
        }
      }
    }
  }
`);

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

type Org = Awaited<ReturnType<typeof newOrganization>>;
type Failure = GqlError & { status: number };

interface Expected {
  code: "BAD_USER_INPUT" | "CONFLICT" | "NOT_FOUND";
  /** the input field at fault: extensions.field, and (for BAD_USER_INPUT) the message's prefix */
  field?: string;
  message?: RegExp;
}

/** Runs an attempt that must fail as expected and leave the organization's rows as they were. */
async function refused(org: Org, attempt: () => Promise<Failure>, expected: Expected) {
  const before = await rowCounts(org.rowId);
  const error = await attempt();
  expect(error.extensions?.code, error.message).toBe(expected.code);
  expect(error.status).toBe(200);
  if (expected.field) {
    expect(error.extensions?.field).toBe(expected.field);
    if (expected.code === "BAD_USER_INPUT") expect(error.message).toContain(`${expected.field}: `);
  }
  if (expected.message) expect(error.message).toMatch(expected.message);
  expect(await rowCounts(org.rowId)).toEqual(before);
  return error;
}

const uniqueShortCode = () => `9${String(randomInt(0, 10_000_000)).padStart(7, "0")}`;
const uniqueTollFree = () =>
  `+1888${randomInt(2, 10)}${String(randomInt(0, 1_000_000)).padStart(6, "0")}`;
const unknownId = (typename: string) => encodeGlobalID(typename, randomUUID());

/** The fixture's consent language with one edit. */
const language = (edit: (text: string) => string) => edit(disclosures().consentLanguage);

const campaignInput = (
  senderId: string,
  overrides: {
    name?: string;
    purpose?: CampaignPurpose;
    keywords?: string[];
    disclosures?: Partial<DisclosuresInput>;
  } = {},
) => ({
  name: overrides.name ?? `Campaign ${randomUUID()}`,
  purpose: overrides.purpose ?? ("MARKETING" as const),
  senderId,
  keywords: overrides.keywords ?? [],
  disclosures: { ...disclosures(), ...overrides.disclosures },
});

describe("createOrganization", () => {
  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["too long", "x".repeat(201)],
  ])("refuses an %s name (BAD_USER_INPUT input.name, no organization)", async (_label, name) => {
    const app = await testApp();
    const prisma = app.db.prisma;
    const candidates = { name: { in: [name, name.trim()] } };
    const before = await prisma.organization.count({ where: candidates });
    const error = await failure(PLATFORM_KEY, CreateOrganization, { input: { name } });
    expect(error.extensions?.code).toBe("BAD_USER_INPUT");
    expect(error.extensions?.field).toBe("input.name");
    expect(error.message).toMatch(/^input\.name: must be 1 to 200 characters/);
    expect(await prisma.organization.count({ where: candidates })).toBe(before);
  });

  it("accepts a 200-character name, trimmed", async () => {
    const name = `${randomUUID()}${"n".repeat(164)}`;
    expect(name).toHaveLength(200);
    const data = await ok(PLATFORM_KEY, CreateOrganization, { input: { name: `  ${name} ` } });
    expect(data.createOrganization.organization.name).toBe(name);
  });
});

describe("createApiKey", () => {
  it.each<[string, { name: string; role: Role; campaignIds?: string[] }, string]>([
    ["an empty name", { name: "", role: "VIEWER" }, "input.name"],
    ["a blank name", { name: "  ", role: "VIEWER" }, "input.name"],
    ["a 101-character name", { name: "k".repeat(101), role: "OPERATOR" }, "input.name"],
    ["PARTNER without campaignIds", { name: "p", role: "PARTNER" }, "input.campaignIds"],
    [
      "PARTNER with no campaigns",
      { name: "p", role: "PARTNER", campaignIds: [] },
      "input.campaignIds",
    ],
  ])("refuses %s", async (_label, input, field) => {
    const org = await newOrganization();
    await refused(org, () => failure(org.adminKey, CreateApiKey, { input }), {
      code: "BAD_USER_INPUT",
      field,
    });
  });

  it.each<Role>(["VIEWER", "OPERATOR", "ADMIN"])(
    "refuses campaignIds on a %s key",
    async (role) => {
      const org = await newOrganization();
      const campaign = await createCampaign(org.adminKey);
      const error = await refused(
        org,
        () =>
          failure(org.adminKey, CreateApiKey, {
            input: { name: "k", role, campaignIds: [campaign.id] },
          }),
        { code: "BAD_USER_INPUT", field: "input.campaignIds" },
      );
      expect(error.message).toContain(role);
    },
  );

  it("refuses a PARTNER key for an unknown campaign (NOT_FOUND)", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    await refused(
      org,
      () =>
        failure(org.adminKey, CreateApiKey, {
          input: { name: "p", role: "PARTNER", campaignIds: [campaign.id, unknownId("Campaign")] },
        }),
      { code: "NOT_FOUND", message: /^No campaign with id "/ },
    );
  });

  it("accepts a 100-character name and de-duplicates a PARTNER key's campaigns", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const data = await ok(org.adminKey, CreateApiKey, {
      input: { name: "k".repeat(100), role: "PARTNER", campaignIds: [campaign.id, campaign.id] },
    });
    expect(data.createApiKey.apiKey).toMatchObject({
      name: "k".repeat(100),
      role: "PARTNER",
      campaignIds: [campaign.id],
    });
  });
});

describe("revokeApiKey", () => {
  it.each([
    ["an unknown key", () => unknownId("ApiKey")],
    ["a malformed id", () => "not-an-id"],
  ])("refuses %s (NOT_FOUND)", async (_label, id) => {
    const org = await newOrganization();
    await refused(org, () => failure(org.adminKey, RevokeApiKey, { input: { id: id() } }), {
      code: "NOT_FOUND",
      message: /^No api ?key with id "/i,
    });
  });
});

describe("createSender", () => {
  it.each<[string, () => string, SenderKind, RegExp]>([
    ["an empty address", () => "", "LONG_CODE", /phone number is required/],
    [
      "an address that is not a number",
      () => "call me maybe",
      "LONG_CODE",
      /not a (valid )?phone number/,
    ],
    ["an incomplete number", () => "+1 415 555", "LONG_CODE", /not a (valid )?phone number/],
    ["a short code with letters", () => "12AB", "SHORT_CODE", /short code is 3 to 8 digits/],
    ["a 9-digit short code", () => "123456789", "SHORT_CODE", /short code is 3 to 8 digits/],
    [
      "a toll-free number as LONG_CODE",
      () => "+1 800 555 0100",
      "LONG_CODE",
      /toll-free number: use kind TOLL_FREE/,
    ],
    [
      "a local number as TOLL_FREE",
      () => uniqueLongCode(),
      "TOLL_FREE",
      /is not a toll-free number/,
    ],
  ])("refuses %s", async (_label, address, kind, message) => {
    const org = await newOrganization();
    await refused(
      org,
      () => failure(org.adminKey, CreateSender, { input: { address: address(), kind } }),
      { code: "BAD_USER_INPUT", field: "input.address", message },
    );
  });

  it("stores every kind in its normal form", async () => {
    const org = await newOrganization();
    const local = uniqueLongCode();
    const formatted = `(${local.slice(2, 5)}) ${local.slice(5, 8)}-${local.slice(8)}`;
    const tollFree = uniqueTollFree();
    const short = uniqueShortCode();
    const cases: [string, SenderKind, string][] = [
      [formatted, "LONG_CODE", local],
      [
        `1-${tollFree.slice(2, 5)}-${tollFree.slice(5, 8)}-${tollFree.slice(8)}`,
        "TOLL_FREE",
        tollFree,
      ],
      [` ${short} `, "SHORT_CODE", short],
    ];
    for (const [address, kind, stored] of cases) {
      const data = await ok(org.adminKey, CreateSender, { input: { address, kind } });
      expect(data.createSender.sender).toMatchObject({ address: stored, kind });
    }
    expect((await rowCounts(org.rowId)).senders).toBe(3);
  });

  it("refuses an address already registered in the organization, in any format (CONFLICT), and lets another organization register it", async () => {
    const org = await newOrganization();
    const other = await newOrganization();
    const { address } = await createSender(org.adminKey);
    const formatted = `1 (${address.slice(2, 5)}) ${address.slice(5, 8)}.${address.slice(8)}`;
    const conflict = {
      code: "CONFLICT" as const,
      field: "input.address",
      message: new RegExp(
        `^A sender with address \\${address} is already registered in this organization\\.$`,
      ),
    };
    for (const [who, input] of [
      [org, address],
      [org, formatted],
    ] as const) {
      const otherBefore = await rowCounts(other.rowId);
      await refused(
        who,
        () => failure(who.adminKey, CreateSender, { input: { address: input, kind: "LONG_CODE" } }),
        conflict,
      );
      expect(await rowCounts(other.rowId)).toEqual(otherBefore);
    }
    // Registering proves nothing, so another organization's claim is not refused either.
    const mine = await ok(other.adminKey, CreateSender, { input: { address, kind: "LONG_CODE" } });
    expect(mine.createSender.sender.address).toBe(address);
    const short = uniqueShortCode();
    await ok(org.adminKey, CreateSender, { input: { address: short, kind: "SHORT_CODE" } });
    await ok(other.adminKey, CreateSender, { input: { address: short, kind: "SHORT_CODE" } });
    await refused(
      other,
      () =>
        failure(other.adminKey, CreateSender, { input: { address: short, kind: "SHORT_CODE" } }),
      { code: "CONFLICT", field: "input.address" },
    );
  });
});

describe("createCampaign", () => {
  const withoutHelp = (t: string) =>
    t.replace("Reply HELP for help and STOP to cancel.", "Reply STOP to cancel.");
  const withoutStop = (t: string) =>
    t.replace("Reply HELP for help and STOP to cancel.", "Reply HELP for help.");
  const withoutPurchase = (t: string) => t.replace("Consent is not a condition of purchase. ", "");
  const withoutRates = (t: string) => t.replace("Msg & data rates may apply. ", "");
  const withoutProgram = (t: string) => t.replace("from Acme Deals", "from us");

  it.each<[string, Parameters<typeof campaignInput>[1], string, RegExp?]>([
    ["an empty name", { name: "" }, "input.name", /must not be empty/],
    ["a 101-character name", { name: "c".repeat(101) }, "input.name", /at most 100/],
    [
      "consent language without the program name",
      { disclosures: { consentLanguage: language(withoutProgram) } },
      "input.disclosures.consentLanguage",
      /program name/,
    ],
    [
      'consent language without "Msg & data rates may apply"',
      { disclosures: { consentLanguage: language(withoutRates) } },
      "input.disclosures.consentLanguage",
      /data rates may apply/,
    ],
    [
      "consent language without HELP",
      { disclosures: { consentLanguage: language(withoutHelp) } },
      "input.disclosures.consentLanguage",
      /HELP/,
    ],
    [
      "consent language without STOP",
      { disclosures: { consentLanguage: language(withoutStop) } },
      "input.disclosures.consentLanguage",
      /STOP/,
    ],
    [
      'marketing consent language without "not a condition of purchase"',
      { disclosures: { consentLanguage: language(withoutPurchase) } },
      "input.disclosures.consentLanguage",
      /condition of purchase/,
    ],
    [
      "informational consent language without STOP",
      { purpose: "INFORMATIONAL", disclosures: { consentLanguage: language(withoutStop) } },
      "input.disclosures.consentLanguage",
      /STOP/,
    ],
    [
      "a termsUrl that is not a URL",
      { disclosures: { termsUrl: "acme terms" } },
      "input.disclosures.termsUrl",
      /is not a URL/,
    ],
    [
      "a privacyUrl that is not http(s)",
      { disclosures: { privacyUrl: "ftp://acme.example/privacy" } },
      "input.disclosures.privacyUrl",
      /http\(s\)/,
    ],
    [
      "a marketing campaign without termsUrl",
      { disclosures: { termsUrl: null } },
      "input.disclosures.termsUrl",
      /required for marketing/,
    ],
    [
      "a marketing campaign without privacyUrl",
      { disclosures: { privacyUrl: "" } },
      "input.disclosures.privacyUrl",
      /required for marketing/,
    ],
    [
      "an empty programName",
      { disclosures: { programName: " " } },
      "input.disclosures.programName",
      /must not be empty/,
    ],
    [
      "a helpText longer than 320",
      { disclosures: { helpText: "h".repeat(321) } },
      "input.disclosures.helpText",
      /at most 320/,
    ],
    ["the reserved keyword STOP", { keywords: ["STOP"] }, "input.keywords[0]", /reserved/],
    [
      "the reserved keyword help (any case)",
      { keywords: ["help"] },
      "input.keywords[0]",
      /reserved/,
    ],
    ["the reserved keyword Yes", { keywords: ["Yes"] }, "input.keywords[0]", /reserved/],
    ["the reserved keyword START", { keywords: ["START"] }, "input.keywords[0]", /reserved/],
    [
      "a reserved keyword after a good one",
      { keywords: ["JOIN", "unsubscribe"] },
      "input.keywords[1]",
      /reserved/,
    ],
    ["a keyword with a space", { keywords: ["SALE NOW"] }, "input.keywords[0]", /one word/],
    [
      "a keyword with punctuation inside",
      { keywords: ["SALE-NOW"] },
      "input.keywords[0]",
      /one word/,
    ],
    ["a one-letter keyword", { keywords: ["J"] }, "input.keywords[0]", /2 to 20/],
    [
      "21 keywords",
      { keywords: Array.from({ length: 21 }, (_, i) => `KW${i}`) },
      "input.keywords",
      /at most 20/,
    ],
  ])("refuses %s", async (_label, overrides, field, message) => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    await refused(
      org,
      () => failure(org.adminKey, CreateCampaign, { input: campaignInput(sender.id, overrides) }),
      { code: "BAD_USER_INPUT", field, message },
    );
  });

  it.each([
    ["an unknown sender", () => unknownId("Sender")],
    ["a malformed sender id", () => "sender-1"],
  ])("refuses %s (NOT_FOUND)", async (_label, senderId) => {
    const org = await newOrganization();
    await createSender(org.adminKey);
    await refused(
      org,
      () => failure(org.adminKey, CreateCampaign, { input: campaignInput(senderId()) }),
      { code: "NOT_FOUND", message: /^No sender with id "/ },
    );
  });

  it.each<CampaignPurpose>(["INFORMATIONAL", "TRANSACTIONAL"])(
    "accepts a %s campaign without the purchase statement or links",
    async (purpose) => {
      const org = await newOrganization();
      const sender = await createSender(org.adminKey);
      const consentLanguage = language(withoutPurchase);
      const data = await ok(org.adminKey, CreateCampaign, {
        input: campaignInput(sender.id, {
          purpose,
          keywords: ["alerts", "Alerts"],
          disclosures: { consentLanguage, termsUrl: null, privacyUrl: null },
        }),
      });
      expect(data.createCampaign.campaign).toMatchObject({
        purpose,
        status: "DRAFT",
        keywords: ["ALERTS"],
        doubleOptIn: false,
        disclosures: {
          version: 1,
          termsUrl: null,
          privacyUrl: null,
          consentLanguage,
          consentLanguageHash: sha256(consentLanguage),
        },
      });
      expect(await rowCounts(org.rowId)).toMatchObject({ campaigns: 1, disclosures: 1 });
    },
  );

  it("refuses a duplicate name in the organization (CONFLICT), allows it in another", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const name = `Spring ${randomUUID()}`;
    await ok(org.adminKey, CreateCampaign, { input: campaignInput(sender.id, { name }) });
    await refused(
      org,
      () =>
        failure(org.adminKey, CreateCampaign, {
          input: campaignInput(sender.id, { name: ` ${name} ` }),
        }),
      { code: "CONFLICT", field: "input.name", message: /already exists/ },
    );
    const other = await newOrganization();
    const otherSender = await createSender(other.adminKey);
    await ok(other.adminKey, CreateCampaign, { input: campaignInput(otherSender.id, { name }) });
  });

  it("a join keyword belongs to one live campaign per sender", async () => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const otherSender = await createSender(org.adminKey);
    const first = (
      await ok(org.adminKey, CreateCampaign, {
        input: campaignInput(sender.id, { name: "First", keywords: ["join", "deals"] }),
      })
    ).createCampaign.campaign;
    expect(first.keywords).toEqual(["JOIN", "DEALS"]);

    // taken on the same sender, even by a DRAFT campaign, in any case
    const error = await refused(
      org,
      () =>
        failure(org.adminKey, CreateCampaign, {
          input: campaignInput(sender.id, { keywords: ["OFFERS", "Join"] }),
        }),
      { code: "CONFLICT", field: "input.keywords" },
    );
    expect(error.message).toBe('Keyword JOIN is already used by campaign "First" on this sender.');

    // free on another sender
    await ok(org.adminKey, CreateCampaign, {
      input: campaignInput(otherSender.id, { keywords: ["JOIN"] }),
    });
    // and free again on the same sender once the first campaign is archived
    await ok(org.adminKey, SetCampaignStatus, { input: { id: first.id, status: "ARCHIVED" } });
    const again = await ok(org.adminKey, CreateCampaign, {
      input: campaignInput(sender.id, { keywords: ["JOIN"] }),
    });
    expect(again.createCampaign.campaign.keywords).toEqual(["JOIN"]);
  });
});

describe("updateCampaign", () => {
  it("refuses to change an ARCHIVED campaign (CONFLICT)", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    await ok(org.adminKey, SetCampaignStatus, { input: { id: campaign.id, status: "ARCHIVED" } });
    const before = await org.prisma.campaign.findFirstOrThrow({
      where: { organizationId: org.rowId },
    });
    for (const input of [
      { id: campaign.id, name: "Revived" },
      { id: campaign.id, disclosures: { ...disclosures(), helpText: "Acme Deals: new help." } },
    ]) {
      await refused(org, () => failure(org.adminKey, UpdateCampaign, { input }), {
        code: "CONFLICT",
        field: "input.id",
        message: /^An ARCHIVED campaign cannot be changed\.$/,
      });
    }
    expect(
      await org.prisma.campaign.findFirstOrThrow({ where: { organizationId: org.rowId } }),
    ).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, Expected]>([
    ["an empty name", { name: "" }, { code: "BAD_USER_INPUT", field: "input.name" }],
    [
      "a reserved keyword",
      { keywords: ["JOIN", "STOP"] },
      { code: "BAD_USER_INPUT", field: "input.keywords[1]" },
    ],
    [
      "disclosures without STOP",
      {
        disclosures: {
          ...disclosures(),
          consentLanguage:
            "Acme Deals texts. Msg & data rates may apply. Reply HELP. Not a condition of purchase.",
        },
      },
      { code: "BAD_USER_INPUT", field: "input.disclosures.consentLanguage", message: /STOP/ },
    ],
    [
      "marketing disclosures losing their terms link",
      { disclosures: { ...disclosures(), termsUrl: null } },
      { code: "BAD_USER_INPUT", field: "input.disclosures.termsUrl" },
    ],
    [
      "an unknown id",
      { id: unknownId("Campaign"), name: "X" },
      { code: "NOT_FOUND", message: /^No campaign with id "/ },
    ],
  ])("refuses %s", async (_label, input, expected) => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    await refused(
      org,
      () => failure(org.adminKey, UpdateCampaign, { input: { id: campaign.id, ...input } }),
      expected,
    );
  });

  it("refuses another campaign's name and another live campaign's keyword (CONFLICT)", async () => {
    const org = await newOrganization();
    const taken = await createCampaign(org.adminKey, { keywords: ["DEALS"] });
    const campaign = await createCampaign(org.adminKey, { senderId: taken.senderId });
    await refused(
      org,
      () => failure(org.adminKey, UpdateCampaign, { input: { id: campaign.id, name: taken.name } }),
      { code: "CONFLICT", field: "input.name", message: /already exists/ },
    );
    await refused(
      org,
      () =>
        failure(org.adminKey, UpdateCampaign, { input: { id: campaign.id, keywords: ["deals"] } }),
      { code: "CONFLICT", field: "input.keywords", message: /DEALS/ },
    );
    // its own keywords are no clash
    const own = await ok(org.adminKey, UpdateCampaign, {
      input: { id: taken.id, keywords: ["deals", "promo"] },
    });
    expect(own.updateCampaign.campaign.keywords).toEqual(["DEALS", "PROMO"]);
  });

  it("a disclosures change writes version 2; an identical update writes nothing", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const v1 = disclosures();
    const v2 = { ...v1, consentLanguage: `${v1.consentLanguage} Text JOIN to rejoin.` };

    const before = await rowCounts(org.rowId);
    const changed = (
      await ok(org.adminKey, UpdateCampaign, { input: { id: campaign.id, disclosures: v2 } })
    ).updateCampaign.campaign;
    expect(changed.disclosures).toMatchObject({
      version: 2,
      consentLanguage: v2.consentLanguage,
      consentLanguageHash: sha256(v2.consentLanguage),
    });
    expect(changed.disclosureHistory).toEqual([
      {
        version: 1,
        helpText: v1.helpText,
        consentLanguage: v1.consentLanguage,
        consentLanguageHash: sha256(v1.consentLanguage),
      },
      {
        version: 2,
        helpText: v2.helpText,
        consentLanguage: v2.consentLanguage,
        consentLanguageHash: sha256(v2.consentLanguage),
      },
    ]);
    expect(changed.disclosures.consentLanguageHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await rowCounts(org.rowId)).toEqual({ ...before, disclosures: before.disclosures + 1 });

    // the same values again (names, keywords and disclosures, whitespace aside): no write at all
    const row = await org.prisma.campaign.findFirstOrThrow({
      where: { organizationId: org.rowId },
    });
    const same = (
      await ok(org.adminKey, UpdateCampaign, {
        input: {
          id: campaign.id,
          name: ` ${campaign.name} `,
          keywords: [],
          doubleOptIn: false,
          disclosures: {
            ...v2,
            programName: ` ${v2.programName}`,
            consentLanguage: `${v2.consentLanguage}\n`,
          },
        },
      })
    ).updateCampaign.campaign;
    expect(same.disclosures.version).toBe(2);
    expect(same.disclosureHistory.map((d) => d.version)).toEqual([1, 2]);
    expect(await rowCounts(org.rowId)).toEqual({ ...before, disclosures: before.disclosures + 1 });
    expect(
      await org.prisma.campaign.findFirstOrThrow({ where: { organizationId: org.rowId } }),
    ).toEqual(row);

    // any other field of the disclosures makes a version too; the language hash stays
    const v3 = (
      await ok(org.adminKey, UpdateCampaign, {
        input: {
          id: campaign.id,
          disclosures: { ...v2, helpText: "Acme Deals: call 800-555-0199." },
        },
      })
    ).updateCampaign.campaign;
    expect(v3.disclosures).toMatchObject({
      version: 3,
      consentLanguageHash: sha256(v2.consentLanguage),
    });
    expect(v3.disclosureHistory.map((d) => d.version)).toEqual([1, 2, 3]);
  });
});

describe("setCampaignStatus", () => {
  const setStatus = (key: string, id: string, status: CampaignStatus) =>
    execute(key, SetCampaignStatus, { input: { id, status } });

  it("walks DRAFT → ACTIVE → PAUSED → ACTIVE → ARCHIVED and refuses moves off that map", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey, { active: false });
    const refusedMove = async (status: CampaignStatus, from: CampaignStatus) => {
      await refused(
        org,
        () => failure(org.adminKey, SetCampaignStatus, { input: { id: campaign.id, status } }),
        {
          code: "CONFLICT",
          field: "input.status",
          message: new RegExp(`^A ${from} campaign cannot become ${status}\\.$`),
        },
      );
      const row = await org.prisma.campaign.findFirstOrThrow({
        where: { organizationId: org.rowId },
      });
      expect(row.status).toBe(from);
    };

    await refusedMove("PAUSED", "DRAFT");
    for (const [status, refusedAfter] of [
      ["ACTIVE", ["DRAFT"]],
      ["PAUSED", ["DRAFT"]],
      ["ACTIVE", []],
      ["ARCHIVED", ["ACTIVE", "PAUSED", "DRAFT"]],
    ] as [CampaignStatus, CampaignStatus[]][]) {
      const result = await setStatus(org.adminKey, campaign.id, status);
      expect(result.errors).toBeUndefined();
      expect(result.data?.setCampaignStatus.campaign.status).toBe(status);
      for (const next of refusedAfter) await refusedMove(next, status);
    }
  });

  it.each<CampaignStatus>(["DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"])(
    "setting a %s campaign to its own status is a no-op",
    async (status) => {
      const org = await newOrganization();
      const campaign = await createCampaign(org.adminKey, { active: false });
      const path: Record<CampaignStatus, CampaignStatus[]> = {
        DRAFT: [],
        ACTIVE: ["ACTIVE"],
        PAUSED: ["ACTIVE", "PAUSED"],
        ARCHIVED: ["ARCHIVED"],
      };
      for (const step of path[status])
        await ok(org.adminKey, SetCampaignStatus, { input: { id: campaign.id, status: step } });
      const before = await rowCounts(org.rowId);
      const row = await org.prisma.campaign.findFirstOrThrow({
        where: { organizationId: org.rowId },
      });
      const data = await ok(org.adminKey, SetCampaignStatus, {
        input: { id: campaign.id, status },
      });
      expect(data.setCampaignStatus.campaign.status).toBe(status);
      expect(data.setCampaignStatus.campaign.disclosureHistory).toEqual([{ version: 1 }]);
      expect(await rowCounts(org.rowId)).toEqual(before);
      expect(
        await org.prisma.campaign.findFirstOrThrow({ where: { organizationId: org.rowId } }),
      ).toEqual(row);
    },
  );

  it("refuses an unknown campaign (NOT_FOUND)", async () => {
    const org = await newOrganization();
    await createCampaign(org.adminKey);
    await refused(
      org,
      () =>
        failure(org.adminKey, SetCampaignStatus, {
          input: { id: unknownId("Campaign"), status: "PAUSED" },
        }),
      { code: "NOT_FOUND", message: /^No campaign with id "/ },
    );
  });
});

describe("GraphQL-level bad input", () => {
  // Documents that do not validate cannot go through codegen: they are parsed here, untyped.
  const raw = (source: string) =>
    parse(source) as TypedDocumentNode<unknown, Record<string, unknown>>;
  const createSenderWith = raw(
    "mutation MutRawCreateSender($input: CreateSenderInput!) { createSender(input: $input) { sender { id } } }",
  );
  const createKeyWith = raw(
    "mutation MutRawCreateApiKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
  );
  const setStatusWith = raw(
    "mutation MutRawSetStatus($input: SetCampaignStatusInput!) { setCampaignStatus(input: $input) { campaign { id } } }",
  );
  const createCampaignWith = raw(
    "mutation MutRawCreateCampaign($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } } }",
  );

  it("refuses variables that do not fit the schema with BAD_USER_INPUT, writing nothing", async () => {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const address = uniqueLongCode();
    const cases: [string, typeof createSenderWith, Record<string, unknown>, RegExp][] = [
      ["a wrong enum value", createSenderWith, { input: { address, kind: "FAX" } }, /FAX/],
      ["a wrong Role", createKeyWith, { input: { name: "k", role: "OWNER" } }, /OWNER/],
      [
        "a wrong CampaignStatus",
        setStatusWith,
        { input: { id: campaign.id, status: "DELETED" } },
        /DELETED/,
      ],
      ["a string where an object goes", createSenderWith, { input: "+14155550100" }, /object/],
      ["a missing required field", createSenderWith, { input: { address } }, /kind/],
      [
        "null for a required field",
        createSenderWith,
        { input: { address: null, kind: "LONG_CODE" } },
        /address|null/,
      ],
      [
        "an unknown field",
        createSenderWith,
        { input: { address, kind: "LONG_CODE", owner: "me" } },
        /owner/,
      ],
      [
        "a string where a Boolean goes",
        createCampaignWith,
        {
          input: {
            name: "C",
            purpose: "MARKETING",
            senderId: campaign.senderId,
            doubleOptIn: "yes",
            disclosures: disclosures(),
          },
        },
        /Boolean|yes/,
      ],
      ["a missing variable", createSenderWith, {}, /\$input/],
    ];
    const before = await rowCounts(org.rowId);
    for (const [label, document, variables, message] of cases) {
      const result = await execute(org.adminKey, document, variables);
      expect(result.data ?? null, label).toBeNull();
      expect(result.errors, label).toHaveLength(1);
      expect(result.errors?.[0].extensions?.code, label).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0].message, label).toMatch(message);
    }
    expect(await rowCounts(org.rowId)).toEqual(before);
    expect(await org.prisma.sender.count({ where: { address } })).toBe(0);
  });

  const invalidDocuments: [string, string][] = [
    ["a missing required argument", "mutation { createSender { sender { id } } }"],
    [
      "a wrong enum literal",
      'mutation { createSender(input: { address: "+14155550100", kind: FAX }) { sender { id } } }',
    ],
    [
      "a string literal where an object goes",
      'mutation { createSender(input: "+14155550100") { sender { id } } }',
    ],
    [
      "an unknown field",
      'mutation { createSender(input: { address: "+14155550100", kind: LONG_CODE }) { sender { id secret } } }',
    ],
  ];

  it("refuses documents that do not validate with 400 before anything runs", async () => {
    const org = await newOrganization();
    const before = await rowCounts(org.rowId);
    for (const [label, source] of invalidDocuments) {
      const result = await execute(org.adminKey, raw(source), {});
      expect(result.status, label).toBe(400);
      expect(result.data ?? null, label).toBeNull();
      expect(result.errors?.length, label).toBeGreaterThan(0);
      for (const error of result.errors ?? []) {
        expect(error.extensions?.code, label).not.toBe("INTERNAL_SERVER_ERROR");
        expect(error.message.length, label).toBeGreaterThan(0);
      }
    }
    expect(await rowCounts(org.rowId)).toEqual(before);
    expect(
      await org.prisma.sender.count({
        where: { address: "+14155550100", organizationId: org.rowId },
      }),
    ).toBe(0);
  });

  it("refuses a document that does not parse with 400 BAD_USER_INPUT", async () => {
    const org = await newOrganization();
    const app = await testApp();
    const before = await rowCounts(org.rowId);
    const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json",
        authorization: `Bearer ${org.adminKey}`,
      },
      body: JSON.stringify({
        query: 'mutation { createSender(input: { address: "+14155550100", kind: LONG_CODE }) {',
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { data?: unknown; errors: GqlError[] };
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(body.errors[0].message).toMatch(/^Syntax Error/);
    expect(await rowCounts(org.rowId)).toEqual(before);
  });

  // KNOWN BUG (src/http): validation errors skip the error mask and keep Yoga's own code
  // GRAPHQL_VALIDATION_FAILED, while src/http/errors.ts promises BAD_USER_INPUT for every request
  // error. Turn into `it` once validation errors are given BAD_USER_INPUT.
  it("documents that do not validate are BAD_USER_INPUT", async () => {
    const org = await newOrganization();
    for (const [label, source] of invalidDocuments) {
      const result = await execute(org.adminKey, raw(source), {});
      expect(result.errors?.[0].extensions?.code, label).toBe("BAD_USER_INPUT");
    }
  });

  // KNOWN BUG (src/http/errors.ts rootCause): the mask unwraps GraphQL's variable error down to
  // its innermost cause, dropping 'Variable "$input" got invalid value "FAX" at "input.kind"', so
  // the message no longer names the field. Turn into `it` once the outer message is kept.
  it("variable errors name the variable and the input field", async () => {
    const org = await newOrganization();
    const result = await execute(org.adminKey, createSenderWith, {
      input: { address: uniqueLongCode(), kind: "FAX" },
    });
    expect(result.errors?.[0].message).toContain("input.kind");
  });
});
