// canSend from memory (src/services/send-cache.ts): once an organization is held, a decision sends
// no SQL; a change made on this instance (a STOP, a campaign paused) is answered right away; a
// change the cache hears of late (a lost wake-up, a subscriber's time zone, which is no ledger
// event) is answered within the freshness window, and while the cache cannot vouch for itself
// (no wake-up channel) every decision reads the database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { authenticate } from "../../src/services/api-keys.ts";
import { optOut as optOutConsent } from "../../src/services/consents.ts";
import { SEND_CACHE_SQL_TAG } from "../../src/services/send-cache-reads.ts";
import { engine, recordQueries, testApp, testEnv } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization, ok } from "../support/graphql.ts";
import { until } from "../streams/support.ts";
import { CanSend, CanSendMany, SetStatus, confirmOptIn, optIn, optOut, rowId } from "./ops.ts";

const PHONE = "+14155550181"; // San Francisco
const NEVER = "+14155550182";
const NOON_SF = "2025-01-15T20:00:00.000Z"; // Wednesday 12:00 in San Francisco
const MORNING_SF = "2025-01-15T16:30:00.000Z"; // 08:30 in San Francisco, 06:30 in Honolulu

/**
 * The statements that decided: not the cache's own reads, not the API key's lookup (cached for a
 * second), not the app's once-a-minute expiry sweep.
 */
const decisionQueries = (queries: string[]) =>
  queries.filter(
    (sql) =>
      !sql.includes(SEND_CACHE_SQL_TAG) && !/"ApiKey"/.test(sql) && !/"expiresAt" <=/.test(sql),
  );

async function optedIn() {
  const org = await newOrganization();
  const key = org.adminKey;
  const campaign = await createCampaign(key, { purpose: "MARKETING" });
  await optIn(key, { phone: PHONE, campaignId: campaign.id });
  await confirmOptIn(key, { phone: PHONE, campaignId: campaign.id });
  return { org, key, campaign };
}

/** An HTTP client for another app instance. */
function clientOf(app: App) {
  return async (key: string, phone: string, campaignId: string, at = NOON_SF) => {
    const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: `query ($phone: String!, $campaignId: ID!, $at: DateTime) {
          canSend(phone: $phone, campaignId: $campaignId, at: $at) { allowed reason }
        }`,
        variables: { phone, campaignId, at },
      }),
    });
    const body = (await response.json()) as {
      data?: { canSend: { allowed: boolean; reason: string } };
      errors?: unknown;
    };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data.canSend;
  };
}

/** Waits until `app` answers canSend for the organization from memory. */
async function held(app: App, ask: () => Promise<unknown>) {
  await until(async () => {
    const before = app.runtime.sendCache.counts.answered;
    await ask();
    return app.runtime.sendCache.counts.answered > before;
  }, "the send cache to hold the organization");
}

// the worker's app starts (and migrates) in a hook, with a hook's time, not in the first test's
beforeAll(async () => {
  await testApp();
});

describe("canSend from memory, on one instance", () => {
  it("answers with no SQL statement once the organization is held, as the database does", async () => {
    const { key, campaign } = await optedIn();
    const ask = () => ok(key, CanSend, { phone: PHONE, campaignId: campaign.id, at: NOON_SF });
    const fromDatabase = (await ask()).canSend;
    const app = await testApp();
    await held(app, ask);

    const { result, queries } = await recordQueries(ask);
    expect(decisionQueries(queries), queries.join("\n---\n")).toEqual([]);
    expect(result.canSend).toEqual(fromDatabase);
    expect(result.canSend.reason).toBe("ALLOWED");
    expect(rowId(result.canSend.consent!.id)).toMatch(/^[0-9a-f-]{36}$/);

    const many = await recordQueries(() =>
      ok(key, CanSendMany, { phones: [PHONE, NEVER, "(415) 555-0181"], campaignId: campaign.id }),
    );
    expect(decisionQueries(many.queries)).toEqual([]);
    expect(many.result.canSendMany.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^(ALLOWED|QUIET_HOURS)$/),
      "NO_CONSENT",
      many.result.canSendMany[0].reason,
    ]);
  });

  it("answers OPTED_OUT right after a STOP on the same instance, and ALLOWED after a new opt-in", async () => {
    const { key, campaign } = await optedIn();
    const ask = () => ok(key, CanSend, { phone: PHONE, campaignId: campaign.id, at: NOON_SF });
    const app = await testApp();
    await held(app, ask);
    for (let round = 0; round < 3; round++) {
      await optOut(key, { phone: PHONE, campaignId: campaign.id });
      expect((await ask()).canSend.reason).toBe("OPTED_OUT");
      const many = await ok(key, CanSendMany, { phones: [PHONE], campaignId: campaign.id });
      expect(many.canSendMany[0].reason).toBe("OPTED_OUT");
      // a number that opted out is re-added through double opt-in
      await optIn(key, { phone: PHONE, campaignId: campaign.id });
      expect((await ask()).canSend.reason).toBe("PENDING_CONFIRMATION");
      await confirmOptIn(key, { phone: PHONE, campaignId: campaign.id });
      expect((await ask()).canSend.reason).toBe("ALLOWED");
    }
  });

  it("is current the moment the ledger writer answers: the STOP is in memory, or memory is not trusted", async () => {
    const { key, campaign } = await optedIn();
    const app = await testApp();
    const actor = (await authenticate(app.db.prisma, key))!;
    const campaignId = rowId(campaign.id);
    const cache = app.runtime.sendCache;
    await held(app, () => ok(key, CanSend, { phone: PHONE, campaignId: campaign.id }));
    expect(
      cache.inputs(actor.organizationId, campaignId, [PHONE])?.entries[0].consent?.status,
    ).toBe("OPTED_IN");
    await optOutConsent(app.runtime, actor, { phone: PHONE, campaignId, method: "API" });
    // synchronously after the answer: no catch-up read can have run in between
    const inputs = cache.inputs(actor.organizationId, campaignId, [PHONE]);
    expect(inputs === null || inputs.entries[0].consent?.status === "OPTED_OUT").toBe(true);
  });

  it("answers for a number first seen after the organization was held", async () => {
    const { key, campaign } = await optedIn();
    const app = await testApp();
    await held(app, () => ok(key, CanSend, { phone: PHONE, campaignId: campaign.id }));
    const ask = () => ok(key, CanSend, { phone: NEVER, campaignId: campaign.id, at: NOON_SF });
    expect((await ask()).canSend.reason).toBe("NO_CONSENT");
    await optIn(key, { phone: NEVER, campaignId: campaign.id });
    expect((await ask()).canSend.reason).toBe("ALLOWED");
  });

  it("answers CAMPAIGN_NOT_ACTIVE right after the campaign is paused", async () => {
    const { key, campaign } = await optedIn();
    const ask = () => ok(key, CanSend, { phone: PHONE, campaignId: campaign.id, at: NOON_SF });
    const app = await testApp();
    await held(app, ask);
    await ok(key, SetStatus, { input: { id: campaign.id, status: "PAUSED" } });
    expect((await ask()).canSend.reason).toBe("CAMPAIGN_NOT_ACTIVE");
    await ok(key, SetStatus, { input: { id: campaign.id, status: "ACTIVE" } });
    expect((await ask()).canSend.reason).toBe("ALLOWED");
  });

  it("follows a subscriber's stored time zone, which is no ledger event, within the freshness window", async () => {
    const { org, key, campaign } = await optedIn();
    const ask = () => ok(key, CanSend, { phone: PHONE, campaignId: campaign.id, at: MORNING_SF });
    const app = await testApp();
    await held(app, ask);
    expect((await ask()).canSend.reason).toBe("ALLOWED");
    await app.db.prisma.subscriber.update({
      where: { organizationId_phone: { organizationId: org.rowId, phone: PHONE } },
      data: { timezone: "Pacific/Honolulu" },
    });
    await until(
      async () => (await ask()).canSend.reason === "QUIET_HOURS",
      "the Honolulu time zone to reach the decision",
      30_000,
    );
  });
});

describe("canSend from memory, on a second instance", () => {
  const started: App[] = [];
  afterAll(async () => {
    for (const app of started) await app.stop();
  });

  /** Another instance on the same database (PGlite: the same embedded database). */
  async function secondInstance(extra: Record<string, string>) {
    const shared = await testApp();
    const app = await startApp(loadConfig(testEnv(extra)), {
      pglite: shared.db.pglite,
      logError: () => undefined,
    });
    started.push(app);
    return app;
  }

  it.runIf(engine === "postgres")(
    "answers OPTED_OUT once the wake-up of a STOP made on the first instance arrives",
    { timeout: 60_000 },
    async () => {
      // a 10-minute freshness window: only the wake-up can bring the STOP in time
      const second = await secondInstance({ OPTGRAPH_SEND_CACHE_FRESHNESS_MS: "600000" });
      const { key, campaign } = await optedIn();
      const ask = clientOf(second);
      await held(second, () => ask(key, PHONE, campaign.id));
      expect((await ask(key, PHONE, campaign.id)).reason).toBe("ALLOWED");
      await optOut(key, { phone: PHONE, campaignId: campaign.id });
      await until(
        async () => (await ask(key, PHONE, campaign.id)).reason === "OPTED_OUT",
        "the second instance to answer OPTED_OUT",
        30_000,
      );
    },
  );

  it(
    "is behind by at most the freshness window when wake-ups are lost",
    { timeout: 60_000 },
    async () => {
      // the second instance listens where the first never publishes: every wake-up is lost
      const FRESHNESS_MS = 500;
      const second = await secondInstance(
        engine === "postgres"
          ? { REDIS_URL: "redis://127.0.0.1:6379", OPTGRAPH_SEND_CACHE_FRESHNESS_MS: "500" }
          : { OPTGRAPH_SEND_CACHE_FRESHNESS_MS: "500" },
      );
      const { key, campaign } = await optedIn();
      const ask = clientOf(second);
      await held(second, () => ask(key, PHONE, campaign.id));
      // The bound is the window after the commit, whatever the machine's load: a confirmation
      // counts from when it began, so an answer asked for later than that is the new one, from
      // memory or from the database. No polling: the first answer after the window must be it.
      const afterWindow = async (change: () => Promise<unknown>, reason: string) => {
        await change();
        const committed = performance.now();
        await new Promise((resolve) => setTimeout(resolve, FRESHNESS_MS + 5));
        expect(performance.now() - committed).toBeGreaterThan(FRESHNESS_MS);
        expect((await ask(key, PHONE, campaign.id)).reason).toBe(reason);
      };
      await afterWindow(
        () => ok(key, SetStatus, { input: { id: campaign.id, status: "PAUSED" } }),
        "CAMPAIGN_NOT_ACTIVE",
      );
      await afterWindow(
        () => ok(key, SetStatus, { input: { id: campaign.id, status: "ACTIVE" } }),
        "ALLOWED",
      );
      await afterWindow(() => optOut(key, { phone: PHONE, campaignId: campaign.id }), "OPTED_OUT");
      expect(second.runtime.sendCache.counts.answered).toBeGreaterThan(0);
    },
  );

  it("reads the database for every decision while its wake-up channel is down", async () => {
    // nothing listens on port 1: the instance never hears a wake-up, so it never vouches
    const second = await secondInstance({ REDIS_URL: "redis://127.0.0.1:1" });
    const { key, campaign } = await optedIn();
    const ask = clientOf(second);
    const counts = second.runtime.sendCache.counts;
    for (let i = 0; i < 3; i++) {
      expect((await ask(key, PHONE, campaign.id)).reason).toBe("ALLOWED");
    }
    await optOut(key, { phone: PHONE, campaignId: campaign.id });
    // no wait: the answer comes from the database
    expect((await ask(key, PHONE, campaign.id)).reason).toBe("OPTED_OUT");
    expect(counts.answered).toBe(0);
    expect(counts.fellBack).toBeGreaterThanOrEqual(4);
  });

  it("never holds an organization with more consents than its bound", async () => {
    const second = await secondInstance({ OPTGRAPH_SEND_CACHE_MAX_CONSENTS: "1" });
    const { org, key, campaign } = await optedIn();
    await optIn(key, { phone: NEVER, campaignId: campaign.id });
    const ask = clientOf(second);
    const organizationId = org.rowId;
    expect((await ask(key, PHONE, campaign.id)).reason).toBe("ALLOWED");
    await until(
      () => second.runtime.sendCache.status(organizationId) === "too large",
      "the load to give up",
    );
    expect((await ask(key, PHONE, campaign.id)).reason).toBe("ALLOWED");
    expect(second.runtime.sendCache.counts.answered).toBe(0);
  });
});
