// updateSubscriber over real GraphQL requests: a time zone, state of residence and locale set,
// canonicalized, cleared with null and left alone when absent; canSend and canSendMany deciding by
// them (a Connecticut resident with an out-of-state number); bad input refused by field with
// nothing written; who may change whom (VIEWER never, PARTNER only the subscribers it sees).
import { describe, expect, it } from "vitest";
import { graphql } from "../generated/index.ts";
import { createCampaign } from "../support/fixtures.ts";
import { execute, failure, newOrganization, ok } from "../support/graphql.ts";
import { CanSend, CanSendMany, CreateApiKey, optIn } from "./ops.ts";

const UpdateSubscriber = graphql(`
  mutation LocUpdateSubscriber($input: UpdateSubscriberInput!) {
    updateSubscriber(input: $input) {
      subscriber {
        id
        phone
        timezone
        state
        locale
      }
    }
  }
`);

const SubscriberLocation = graphql(`
  query LocSubscriber($phone: String!) {
    subscriber(phone: $phone) {
      id
      timezone
      state
      locale
    }
  }
`);

const NEW_YORK = "+12125550142"; // New York: no state rule of its own
const CALIFORNIA = "+14155550142";
const NY_8_30 = "2026-11-27T13:30:00.000Z"; // Friday 08:30 in New York and Hartford
const NY_9 = "2026-11-27T14:00:00.000Z";
const NY_20_30 = "2026-11-28T01:30:00.000Z"; // Friday 20:30 in Hartford, 17:30 in San Francisco
const NEXT_MORNING_9 = "2026-11-28T14:00:00.000Z";

async function setUp() {
  const org = await newOrganization();
  const key = org.adminKey;
  const campaign = await createCampaign(key, { purpose: "MARKETING" });
  for (const phone of [NEW_YORK, CALIFORNIA]) await optIn(key, { phone, campaignId: campaign.id });
  return { org, key, campaign };
}

const locationOf = async (key: string, phone: string) =>
  (await ok(key, SubscriberLocation, { phone })).subscriber;

const decision = async (key: string, phone: string, campaignId: string, at: string) =>
  (await ok(key, CanSend, { phone, campaignId, at })).canSend;

describe("updateSubscriber", () => {
  it("stores a zone, a state and a locale in canonical form, by phone or by id", async () => {
    const { key } = await setUp();
    const { updateSubscriber } = await ok(key, UpdateSubscriber, {
      input: {
        phone: "(212) 555-0142",
        timeZone: "america/new_york",
        state: " ct ",
        locale: "ES-us",
      },
    });
    expect(updateSubscriber.subscriber).toMatchObject({
      phone: NEW_YORK,
      timezone: "America/New_York",
      state: "CT",
      locale: "es-US",
    });
    const id = updateSubscriber.subscriber!.id;
    // absent fields stay, null clears
    await ok(key, UpdateSubscriber, { input: { id, locale: null } });
    expect(await locationOf(key, NEW_YORK)).toEqual({
      id,
      timezone: "America/New_York",
      state: "CT",
      locale: null,
    });
    await ok(key, UpdateSubscriber, { input: { id, timeZone: null, state: null } });
    expect(await locationOf(key, NEW_YORK)).toEqual({
      id,
      timezone: null,
      state: null,
      locale: null,
    });
  });

  it("makes canSend follow a Connecticut resident whatever the number's area code", async () => {
    const { key, campaign } = await setUp();
    // the numbers alone: New York opens at 08:00; San Francisco is in its afternoon
    expect(await decision(key, NEW_YORK, campaign.id, NY_8_30)).toMatchObject({ allowed: true });
    expect(await decision(key, CALIFORNIA, campaign.id, NY_20_30)).toMatchObject({ allowed: true });

    for (const phone of [NEW_YORK, CALIFORNIA]) {
      await ok(key, UpdateSubscriber, { input: { phone, state: "CT" } });
    }
    expect(await decision(key, NEW_YORK, campaign.id, NY_8_30)).toMatchObject({
      allowed: false,
      reason: "QUIET_HOURS",
      nextAllowedAt: NY_9,
    });
    expect(await decision(key, NEW_YORK, campaign.id, NY_9)).toMatchObject({ allowed: true });
    expect(await decision(key, CALIFORNIA, campaign.id, NY_20_30)).toMatchObject({
      allowed: false,
      reason: "QUIET_HOURS",
      nextAllowedAt: NEXT_MORNING_9,
    });
    const many = await ok(key, CanSendMany, {
      phones: [NEW_YORK, CALIFORNIA],
      campaignId: campaign.id,
      at: NY_8_30,
    });
    expect(many.canSendMany.map((d) => [d.reason, d.nextAllowedAt])).toEqual([
      ["QUIET_HOURS", NY_9],
      ["QUIET_HOURS", NY_9],
    ]);

    // a stored zone wins over the state's zones: a CT resident living on Los Angeles time
    await ok(key, UpdateSubscriber, {
      input: { phone: CALIFORNIA, timeZone: "America/Los_Angeles" },
    });
    expect(await decision(key, CALIFORNIA, campaign.id, NY_20_30)).toMatchObject({ allowed: true });
  });

  it.each([
    ["timeZone", { timeZone: "Mars/Phobos" }, /IANA time zone/],
    ["timeZone", { timeZone: "+05:00" }, /IANA time zone/],
    ["timeZone", { timeZone: "" }, /IANA time zone/],
    ["state", { state: "ZZ" }, /two-letter US state code/],
    ["state", { state: "Connecticut" }, /two-letter US state code/],
    ["locale", { locale: "en_US" }, /BCP 47/],
    ["locale", { locale: "" }, /BCP 47/],
  ])("refuses a bad %s (%j) by name and writes nothing", async (field, change, problem) => {
    const { key } = await setUp();
    await ok(key, UpdateSubscriber, {
      input: { phone: NEW_YORK, timeZone: "America/Chicago", state: "IL", locale: "en" },
    });
    const before = await locationOf(key, NEW_YORK);
    // a good value beside the bad one is not written either
    const error = await failure(key, UpdateSubscriber, {
      input: { phone: NEW_YORK, locale: "fr", state: "TX", timeZone: "America/Denver", ...change },
    });
    expect(error.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: `input.${field}` });
    expect(error.message).toMatch(problem);
    expect(await locationOf(key, NEW_YORK)).toEqual(before);
  });

  it("needs exactly one of id and phone, and something to change", async () => {
    const { key } = await setUp();
    const both = await failure(key, UpdateSubscriber, {
      input: { id: "U3Vic2NyaWJlcjp4", phone: NEW_YORK, state: "CT" },
    });
    expect(both.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.id" });
    const neither = await failure(key, UpdateSubscriber, { input: { state: "CT" } });
    expect(neither.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.id" });
    const nothing = await failure(key, UpdateSubscriber, { input: { phone: NEW_YORK } });
    expect(nothing.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input" });
    const badPhone = await failure(key, UpdateSubscriber, { input: { phone: "12", state: "CT" } });
    expect(badPhone.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.phone" });
  });

  it("answers NOT_FOUND for an unknown number, a malformed id and another organization's subscriber", async () => {
    const { key } = await setUp();
    const other = await setUp();
    const theirs = await locationOf(other.key, NEW_YORK);
    const unknown = await failure(key, UpdateSubscriber, {
      input: { phone: "+12125550199", state: "CT" },
    });
    expect(unknown.extensions?.code).toBe("NOT_FOUND");
    expect(unknown.message).toBe('No subscriber with phone "+12125550199".');
    const malformed = await failure(key, UpdateSubscriber, { input: { id: "nope", state: "CT" } });
    expect(malformed.extensions?.code).toBe("NOT_FOUND");
    expect(malformed.message).toBe('No subscriber with id "nope".');
    const foreign = await failure(key, UpdateSubscriber, {
      input: { id: theirs!.id, state: "CT" },
    });
    expect(foreign.extensions?.code).toBe("NOT_FOUND");
    expect(foreign.message).toBe(`No subscriber with id "${theirs!.id}".`);
    expect((await locationOf(other.key, NEW_YORK))?.state).toBeNull();
  });

  it("lets OPERATOR keys and PARTNER keys (for the subscribers they see) change it, never VIEWER keys", async () => {
    const { key, campaign } = await setUp();
    const elsewhere = await createCampaign(key, { purpose: "MARKETING" });
    const ONLY_ELSEWHERE = "+13125550142";
    await optIn(key, { phone: ONLY_ELSEWHERE, campaignId: elsewhere.id });
    const keyFor = async (role: "OPERATOR" | "PARTNER" | "VIEWER") =>
      (
        await ok(key, CreateApiKey, {
          input: {
            name: role,
            role,
            ...(role === "PARTNER" ? { campaignIds: [campaign.id] } : {}),
          },
        })
      ).createApiKey.secret;

    const viewer = await keyFor("VIEWER");
    const refused = await failure(viewer, UpdateSubscriber, {
      input: { phone: NEW_YORK, state: "CT" },
    });
    expect(refused.extensions?.code).toBe("FORBIDDEN");
    expect((await locationOf(key, NEW_YORK))?.state).toBeNull();

    const operator = await keyFor("OPERATOR");
    await ok(operator, UpdateSubscriber, { input: { phone: NEW_YORK, state: "CT" } });
    expect((await locationOf(key, NEW_YORK))?.state).toBe("CT");

    const partner = await keyFor("PARTNER");
    await ok(partner, UpdateSubscriber, { input: { phone: NEW_YORK, state: "MD" } });
    expect((await locationOf(key, NEW_YORK))?.state).toBe("MD");
    // a subscriber with no consent in the partner's campaigns reads as missing
    const hidden = await execute(partner, UpdateSubscriber, {
      input: { phone: ONLY_ELSEWHERE, state: "CT" },
    });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect((await locationOf(key, ONLY_ELSEWHERE))?.state).toBeNull();
  });
});
