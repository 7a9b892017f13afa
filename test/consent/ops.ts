// Operations and helpers shared by the consent lifecycle tests: the consent mutations, the ledger
// read in sequence order (every page), verifyLedger, canSend/canSendMany, and small set-ups that
// move one subscriber's consent for one campaign into a given state through the API.
import { decodeGlobalID } from "@pothos/plugin-relay";
import { expect } from "vitest";
import { graphql } from "../generated/gql.ts";
import type {
  ConsentMethod,
  ConsentStatus,
  OptInInput,
  OptOutInput,
  ConfirmOptInInput,
  ConsEventsQuery,
} from "../generated/graphql.ts";
import { engine, testApp } from "../support/app.ts";
import { ConfirmOptIn, OptIn, OptOut, VerifyLedger } from "../support/documents.ts";
import { ok, rowCounts, type GqlError, type newOrganization } from "../support/graphql.ts";
import { expirePendingConsents } from "../../src/services/consents.ts";

// The consent operations live in test/support/documents.ts; the consent tests take them from here.
export {
  CanSend,
  CanSendMany,
  ConfirmOptIn,
  CreateApiKey,
  OptIn,
  OptOut,
  SetCampaignStatus as SetStatus,
  UpdateCampaign,
  VerifyLedger,
} from "../support/documents.ts";

export type Org = Awaited<ReturnType<typeof newOrganization>>;
export type Failure = GqlError & { status: number };

export const Events = graphql(`
  query ConsEvents($first: Int, $after: String) {
    consentEvents(first: $first, after: $after) {
      edges {
        node {
          id
          sequence
          fromStatus
          toStatus
          method
          prevHash
          hash
          occurredAt
          recordedAt
          evidence
          consent {
            id
          }
          campaign {
            id
          }
          subscriber {
            id
            phone
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const SubscriberConsents = graphql(`
  query ConsSubscriberConsents($phone: String!) {
    subscriber(phone: $phone) {
      id
      phone
      consents {
        id
        status
        method
        expiresAt
        campaign {
          id
        }
      }
    }
  }
`);

export const CampaignTexts = graphql(`
  query ConsCampaignTexts($id: ID!) {
    campaign(id: $id) {
      id
      disclosures {
        programName
        optInConfirmation
        optOutConfirmation
      }
    }
  }
`);

// ---------------------------------------------------------------------------------------------
// Calls with defaults

export const optIn = (
  key: string,
  input: Partial<OptInInput> & { phone: string; campaignId: string },
) => ok(key, OptIn, { input: { method: "API", ...input } }).then((d) => d.optIn);

let replies = 0;

/**
 * The input of a confirmOptIn: the subscriber's "Y" as the provider delivered it (a fresh provider
 * message id each time), with anything else given.
 */
export const confirmation = (
  input: Omit<ConfirmOptInInput, "message"> & { body?: string },
): ConfirmOptInInput => {
  const { body = "Y", ...rest } = input;
  return {
    ...rest,
    message: {
      from: input.phone,
      body,
      providerMessageId: `SM-reply-${process.pid}-${++replies}-${Date.now()}`,
    },
  };
};

export const confirmOptIn = (key: string, input: Omit<ConfirmOptInInput, "message">) =>
  ok(key, ConfirmOptIn, { input: confirmation(input) }).then((d) => d.confirmOptIn);

export const optOut = (key: string, input: Partial<OptOutInput> & { phone: string }) =>
  ok(key, OptOut, { input: { method: "API", ...input } }).then((d) => d.optOut);

export type LedgerEvent = ConsEventsQuery["consentEvents"]["edges"][number]["node"];

/** The organization's whole ledger, in sequence order, read page by page over GraphQL. */
export async function ledger(key: string): Promise<LedgerEvent[]> {
  const events: LedgerEvent[] = [];
  let after: string | null = null;
  for (;;) {
    const data: ConsEventsQuery = await ok(key, Events, { first: 100, after });
    events.push(...data.consentEvents.edges.map((e) => e.node));
    if (!data.consentEvents.pageInfo.hasNextPage) break;
    after = data.consentEvents.pageInfo.endCursor ?? null;
  }
  return events;
}

export const verifyLedger = (key: string) => ok(key, VerifyLedger).then((d) => d.verifyLedger);

/** The subscriber's consent for a campaign (null when there is none). */
export async function consentOf(key: string, phone: string, campaignId: string) {
  const data = await ok(key, SubscriberConsents, { phone });
  return data.subscriber?.consents.find((c) => c.campaign.id === campaignId) ?? null;
}

export const rowId = (globalId: string) => decodeGlobalID(globalId).id;

/**
 * Expires one PENDING consent through the real sweeper: its window is moved into the past (the
 * test cannot wait 72 hours), then `expirePendingConsents` runs at a `now` after that window.
 * Only consents whose windows had really passed are swept with it, so other tests running on the
 * same database keep their PENDING consents.
 */
export async function expireNow(consentGlobalId: string) {
  const app = await testApp();
  const expiresAt = new Date(Date.now() - 10 * 60_000);
  const updated = await app.db.prisma.consent.updateMany({
    where: { id: rowId(consentGlobalId), status: "PENDING" },
    data: { expiresAt },
  });
  const swept = await expirePendingConsents(app.runtime, new Date(expiresAt.getTime() + 60_000));
  return { updated: updated.count, swept };
}

// ---------------------------------------------------------------------------------------------
// States

export type From = "none" | ConsentStatus;

/**
 * Moves the consent of `phone` for `campaign` into `state` through the API (and the sweeper for
 * EXPIRED). The campaign's double opt-in setting is honoured: without it, PENDING is reached the
 * compliant way, by an integration re-adding a number that opted out.
 */
export async function reach(
  key: string,
  campaign: { id: string; doubleOptIn: boolean },
  phone: string,
  state: From,
) {
  const base = { phone, campaignId: campaign.id };
  const pending = async () => {
    if (!campaign.doubleOptIn) {
      await optIn(key, base);
      await optOut(key, base);
    }
    const result = await optIn(key, base);
    expect(result.consent.status).toBe("PENDING");
    return result.consent.id;
  };
  switch (state) {
    case "none":
      return;
    case "PENDING":
      await pending();
      return;
    case "OPTED_IN":
      if (campaign.doubleOptIn) {
        await pending();
        await confirmOptIn(key, base);
      } else {
        await optIn(key, base);
      }
      break;
    case "OPTED_OUT":
      await optIn(key, base);
      await optOut(key, base);
      break;
    case "EXPIRED": {
      const id = await pending();
      await expireNow(id);
      break;
    }
  }
  expect((await consentOf(key, phone, campaign.id))?.status).toBe(state);
}

// ---------------------------------------------------------------------------------------------
// Refusals

export interface Expected {
  code: "BAD_USER_INPUT" | "CONFLICT" | "NOT_FOUND" | "FORBIDDEN";
  /** the input field at fault: extensions.field, and (for BAD_USER_INPUT) the message's prefix */
  field?: string;
  message?: RegExp;
}

/** Runs an attempt that must fail as expected and leave the organization's rows as they were. */
export async function refused(org: Org, attempt: () => Promise<Failure>, expected: Expected) {
  const app = await testApp();
  const idempotency = () =>
    app.db.prisma.idempotencyRecord.count({ where: { organizationId: org.rowId } });
  const before = { ...(await rowCounts(org.rowId)), idempotency: await idempotency() };
  const error = await attempt();
  expect(error.extensions?.code, error.message).toBe(expected.code);
  if (expected.field) {
    expect(error.extensions?.field, error.message).toBe(expected.field);
    if (expected.code === "BAD_USER_INPUT") expect(error.message).toContain(`${expected.field}: `);
  }
  if (expected.message) expect(error.message).toMatch(expected.message);
  expect({ ...(await rowCounts(org.rowId)), idempotency: await idempotency() }).toEqual(before);
  return error;
}

/** Runs SQL on the run's database outside the app (PostgreSQL through `pg`, PGlite directly). */
export async function rawSql(sql: string, params: unknown[] = []) {
  const app = await testApp();
  if (engine === "pglite") return app.db.pglite!.query(sql, params);
  const { inject } = await import("vitest");
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: inject("postgresUrl") });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export const METHODS: ConsentMethod[] = ["API", "WEB_FORM", "IMPORT"];
