// Bad input to the consent mutations and canSendMany: each is refused with its code, names the
// field at fault, and writes nothing (every row count of the organization unchanged).
import { randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { describe, expect, it } from "vitest";
import { createCampaign } from "../support/fixtures.ts";
import { failure, newOrganization, ok } from "../support/graphql.ts";
import {
  CanSendMany,
  ConfirmOptIn,
  confirmation,
  CreateApiKey,
  OptIn,
  OptOut,
  SetStatus,
  consentOf,
  optIn,
  refused,
  type Expected,
} from "./ops.ts";

const PHONE = "+14155550177";

async function setUp() {
  const org = await newOrganization();
  const campaign = await createCampaign(org.adminKey, { doubleOptIn: true });
  // a subscriber and a pending consent already exist: refusals must not touch them either
  await optIn(org.adminKey, { phone: PHONE, campaignId: campaign.id });
  return { org, campaign };
}

const future = () => new Date(Date.now() + 3_600_000).toISOString();

type OptInCase = [string, Record<string, unknown>, Expected];
const optInCases: OptInCase[] = [
  ["phone '12'", { phone: "12" }, { code: "BAD_USER_INPUT", field: "input.phone" }],
  ["phone 'abc'", { phone: "abc" }, { code: "BAD_USER_INPUT", field: "input.phone" }],
  ["empty phone", { phone: "  " }, { code: "BAD_USER_INPUT", field: "input.phone" }],
  [
    "occurredAt in the future",
    { occurredAt: "FUTURE" },
    { code: "BAD_USER_INPUT", field: "input.occurredAt", message: /in the future/ },
  ],
  ["evidence a string", { evidence: "yes" }, { code: "BAD_USER_INPUT", field: "input.evidence" }],
  ["evidence an array", { evidence: [1, 2] }, { code: "BAD_USER_INPUT", field: "input.evidence" }],
  ["evidence a number", { evidence: 42 }, { code: "BAD_USER_INPUT", field: "input.evidence" }],
  [
    "evidence.ip not an IP",
    { evidence: { ip: "999.1.1.1" } },
    { code: "BAD_USER_INPUT", field: "input.evidence.ip", message: /999\.1\.1\.1/ },
  ],
  [
    "evidence.ip not a string",
    { evidence: { ip: 12 } },
    { code: "BAD_USER_INPUT", field: "input.evidence.ip" },
  ],
  [
    "evidence.pageUrl not a URL",
    { evidence: { pageUrl: "not a url" } },
    { code: "BAD_USER_INPUT", field: "input.evidence.pageUrl" },
  ],
  [
    "evidence.pageUrl not http(s)",
    { evidence: { pageUrl: "javascript:alert(1)" } },
    { code: "BAD_USER_INPUT", field: "input.evidence.pageUrl" },
  ],
  [
    "evidence too large",
    { evidence: { note: "x".repeat(20_000) } },
    { code: "BAD_USER_INPUT", field: "input.evidence" },
  ],
  [
    "idempotencyKey too long",
    { idempotencyKey: "k".repeat(201) },
    { code: "BAD_USER_INPUT", field: "input.idempotencyKey" },
  ],
  [
    "unknown campaignId",
    { campaignId: encodeGlobalID("Campaign", randomUUID()) },
    { code: "NOT_FOUND", message: /No campaign/ },
  ],
  [
    "campaignId of another type",
    { campaignId: encodeGlobalID("Sender", randomUUID()) },
    { code: "NOT_FOUND" },
  ],
  ["malformed campaignId", { campaignId: "nope" }, { code: "NOT_FOUND" }],
];

describe("optIn refuses bad input and writes nothing", () => {
  it.each(optInCases)("%s", async (_label, override, expected) => {
    const { org, campaign } = await setUp();
    const input = {
      phone: "+14155550178",
      campaignId: campaign.id,
      method: "API" as const,
      ...override,
      ...(override.occurredAt === "FUTURE" ? { occurredAt: future() } : {}),
    };
    await refused(org, () => failure(org.adminKey, OptIn, { input: input as never }), expected);
    expect(await consentOf(org.adminKey, "+14155550178", campaign.id)).toBeNull();
  });

  it("an occurredAt a few seconds ahead (clock skew) is accepted", async () => {
    const { org, campaign } = await setUp();
    const result = await optIn(org.adminKey, {
      phone: "+14155550178",
      campaignId: campaign.id,
      occurredAt: new Date(Date.now() + 30_000).toISOString(),
    });
    expect(result.changed).toBe(true);
  });
});

describe("optOut and confirmOptIn refuse bad input and write nothing", () => {
  it.each([
    ["12", "BAD_USER_INPUT"],
    ["abc", "BAD_USER_INPUT"],
  ] as const)("phone %j", async (phone, code) => {
    const { org, campaign } = await setUp();
    const expected = { code, field: "input.phone" } as const;
    await refused(
      org,
      () =>
        failure(org.adminKey, OptOut, { input: { phone, campaignId: campaign.id, method: "API" } }),
      expected,
    );
    await refused(
      org,
      () =>
        failure(org.adminKey, OptOut, { input: { phone, scope: "ORGANIZATION", method: "API" } }),
      expected,
    );
    await refused(
      org,
      () =>
        failure(org.adminKey, ConfirmOptIn, {
          input: confirmation({ phone, campaignId: campaign.id }),
        }),
      expected,
    );
  });

  it("evidence and reason", async () => {
    const { org, campaign } = await setUp();
    const base = { phone: PHONE, campaignId: campaign.id, method: "API" as const };
    for (const [evidence, field] of [
      ["text", "input.evidence"],
      [{ ip: "1.2.3" }, "input.evidence.ip"],
      [{ pageUrl: "ftp://x.example/" }, "input.evidence.pageUrl"],
    ] as const) {
      await refused(org, () => failure(org.adminKey, OptOut, { input: { ...base, evidence } }), {
        code: "BAD_USER_INPUT",
        field,
      });
      await refused(
        org,
        () =>
          failure(org.adminKey, ConfirmOptIn, {
            input: confirmation({ phone: PHONE, campaignId: campaign.id, evidence }),
          }),
        { code: "BAD_USER_INPUT", field },
      );
    }
    await refused(
      org,
      () => failure(org.adminKey, OptOut, { input: { ...base, reason: "r".repeat(501) } }),
      { code: "BAD_USER_INPUT", field: "input.reason" },
    );
    expect((await consentOf(org.adminKey, PHONE, campaign.id))?.status).toBe("PENDING");
  });
});

describe("campaigns that may not be touched", () => {
  it("an unknown or another tenant's campaignId is NOT_FOUND for every mutation", async () => {
    const { org } = await setUp();
    const stranger = await newOrganization();
    const theirs = await createCampaign(stranger.adminKey, { doubleOptIn: true });
    await optIn(stranger.adminKey, { phone: PHONE, campaignId: theirs.id });
    for (const campaignId of [theirs.id, encodeGlobalID("Campaign", randomUUID())]) {
      const attempts = [
        () => failure(org.adminKey, OptIn, { input: { phone: PHONE, campaignId, method: "API" } }),
        () =>
          failure(org.adminKey, ConfirmOptIn, {
            input: confirmation({ phone: PHONE, campaignId }),
          }),
        () => failure(org.adminKey, OptOut, { input: { phone: PHONE, campaignId, method: "API" } }),
        () =>
          failure(org.adminKey, OptOut, {
            input: { phone: PHONE, campaignId, scope: "SENDER", method: "API" },
          }),
      ];
      for (const attempt of attempts) {
        await refused(org, attempt, { code: "NOT_FOUND", message: /No campaign with id/ });
        await refused(stranger, attempt, { code: "NOT_FOUND" });
      }
    }
    expect((await consentOf(stranger.adminKey, PHONE, theirs.id))?.status).toBe("PENDING");
  });

  it("an archived campaign takes no opt-in (CONFLICT) and writes nothing", async () => {
    const { org } = await setUp();
    const campaign = await createCampaign(org.adminKey);
    await ok(org.adminKey, SetStatus, { input: { id: campaign.id, status: "ARCHIVED" } });
    await refused(
      org,
      () =>
        failure(org.adminKey, OptIn, {
          input: { phone: "+14155550190", campaignId: campaign.id, method: "API" },
        }),
      { code: "CONFLICT", field: "input.campaignId", message: /archived/ },
    );
  });

  it("a VIEWER key may not change consents (FORBIDDEN)", async () => {
    const { org, campaign } = await setUp();
    const viewer = (
      await ok(org.adminKey, CreateApiKey, { input: { name: "viewer", role: "VIEWER" } })
    ).createApiKey.secret;
    const base = { phone: PHONE, campaignId: campaign.id };
    await refused(org, () => failure(viewer, OptIn, { input: { ...base, method: "API" } }), {
      code: "FORBIDDEN",
    });
    await refused(org, () => failure(viewer, ConfirmOptIn, { input: base }), { code: "FORBIDDEN" });
    await refused(org, () => failure(viewer, OptOut, { input: { ...base, method: "API" } }), {
      code: "FORBIDDEN",
    });
    expect((await consentOf(org.adminKey, PHONE, campaign.id))?.status).toBe("PENDING");
  });

  it("a PARTNER key is NOT_FOUND on a campaign not its own, and works on its own", async () => {
    const { org, campaign } = await setUp();
    const own = await createCampaign(org.adminKey);
    const partner = (
      await ok(org.adminKey, CreateApiKey, {
        input: { name: "partner", role: "PARTNER", campaignIds: [own.id] },
      })
    ).createApiKey.secret;
    const base = { phone: PHONE, campaignId: campaign.id };
    await refused(org, () => failure(partner, OptIn, { input: { ...base, method: "API" } }), {
      code: "NOT_FOUND",
    });
    await refused(org, () => failure(partner, ConfirmOptIn, { input: confirmation(base) }), {
      code: "NOT_FOUND",
    });
    await refused(org, () => failure(partner, OptOut, { input: { ...base, method: "API" } }), {
      code: "NOT_FOUND",
    });
    await refused(
      org,
      () => failure(partner, OptOut, { input: { ...base, scope: "SENDER", method: "API" } }),
      { code: "NOT_FOUND" },
    );
    expect((await consentOf(org.adminKey, PHONE, campaign.id))?.status).toBe("PENDING");
    const mine = await optIn(partner, { phone: PHONE, campaignId: own.id });
    expect(mine.consent.status).toBe("OPTED_IN");
  });
});

describe("canSendMany refuses bad input", () => {
  it("an invalid phone at index 2 is BAD_USER_INPUT naming phones[2]", async () => {
    const { org, campaign } = await setUp();
    const error = await refused(
      org,
      () =>
        failure(org.adminKey, CanSendMany, {
          phones: [PHONE, "4155550100", "12", "abc"],
          campaignId: campaign.id,
        }),
      { code: "BAD_USER_INPUT", field: "phones[2]", message: /"12"/ },
    );
    expect(error.message).not.toContain("phones[3]");
  });

  it("more than 10,000 phones is BAD_USER_INPUT", async () => {
    const { org, campaign } = await setUp();
    const phones = Array.from({ length: 10_001 }, () => PHONE);
    await refused(
      org,
      () => failure(org.adminKey, CanSendMany, { phones, campaignId: campaign.id }),
      {
        code: "BAD_USER_INPUT",
        field: "phones",
        message: /at most 10000/,
      },
    );
  });

  it("exactly 10,000 phones are answered", async () => {
    const { org, campaign } = await setUp();
    const phones = Array.from({ length: 10_000 }, () => PHONE);
    const data = await ok(org.adminKey, CanSendMany, { phones, campaignId: campaign.id });
    expect(data.canSendMany).toHaveLength(10_000);
    expect(new Set(data.canSendMany.map((d) => d.reason))).toEqual(
      new Set(["PENDING_CONFIRMATION"]),
    );
  });
});
