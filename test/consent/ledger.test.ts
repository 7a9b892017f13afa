// The ledger: gap-free sequences per organization, each event chained to the one before it,
// verifyLedger recomputing the chain; one subscriber per number however it is written; the
// database refusing UPDATE and DELETE; and tampering (with the trigger bypassed) caught by
// verifyLedger, which names the first broken event.
import { describe, expect, it } from "vitest";
import { consentsQuery } from "../../src/services/ledger-state.ts";
import { SEND_CACHE_SQL_TAG } from "../../src/services/send-cache-reads.ts";
import { engine, recordQueries, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import {
  ConfirmOptIn,
  confirmation,
  SubscriberConsents,
  confirmOptIn,
  ledger,
  optIn,
  optOut,
  rawSql,
  rowId,
  verifyLedger,
  type LedgerEvent,
} from "./ops.ts";

const PHONES = ["+14155550111", "+14155550112", "+14155550113"];

/** A small but varied history: single changes, no-ops, a refusal, a multi-event opt-out. */
async function history() {
  const org = await newOrganization();
  const key = org.adminKey;
  const a = await createCampaign(key);
  const b = await createCampaign(key, { doubleOptIn: true });
  let expected = 0;
  const changed = (n: number) => (expected += n);
  for (const phone of PHONES) {
    changed((await optIn(key, { phone, campaignId: a.id })).changed ? 1 : 0);
    changed((await optIn(key, { phone, campaignId: b.id })).changed ? 1 : 0);
  }
  changed((await optIn(key, { phone: PHONES[0], campaignId: a.id })).changed ? 1 : 0); // no-op
  changed((await confirmOptIn(key, { phone: PHONES[0], campaignId: b.id })).changed ? 1 : 0);
  await failure(key, ConfirmOptIn, {
    input: confirmation({ phone: "+14155550199", campaignId: b.id }),
  });
  changed((await optOut(key, { phone: PHONES[1], scope: "ORGANIZATION" })).events.length);
  changed((await optOut(key, { phone: PHONES[1], scope: "ORGANIZATION" })).events.length); // no-op
  changed(
    (await optIn(key, { phone: PHONES[1], campaignId: a.id, method: "WEB_FORM" })).changed ? 1 : 0,
  );
  changed((await optOut(key, { phone: PHONES[2], campaignId: a.id })).events.length);
  return { org, key, a, b, expected };
}

function expectChained(events: LedgerEvent[]) {
  expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
  events.forEach((event, i) => {
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(event.prevHash).toBe(i === 0 ? "" : events[i - 1].hash);
  });
  expect(new Set(events.map((e) => e.hash)).size).toBe(events.length);
}

describe("the ledger", () => {
  it("numbers events 1..n without gaps, chains each to the previous hash, and verifies", async () => {
    const { key, expected } = await history();
    const events = await ledger(key);
    expect(expected).toBe(11);
    expect(events).toHaveLength(expected);
    expectChained(events);
    expect(await verifyLedger(key)).toEqual({
      ok: true,
      eventsChecked: expected,
      firstBrokenEventId: null,
    });
    // the ledger is per organization: another starts at 1 with the genesis link
    const other = await newOrganization();
    const campaign = await createCampaign(other.adminKey);
    const first = await optIn(other.adminKey, { phone: PHONES[0], campaignId: campaign.id });
    expect(first.event).toMatchObject({ sequence: 1, prevHash: "" });
    expect(await verifyLedger(other.adminKey)).toMatchObject({ ok: true, eventsChecked: 1 });
  });

  it("an organization with no events verifies as ok with nothing checked", async () => {
    const org = await newOrganization();
    expect(await verifyLedger(org.adminKey)).toEqual({
      ok: true,
      eventsChecked: 0,
      firstBrokenEventId: null,
    });
  });

  it('treats "(415) 555-0199", "+1 415 555 0199" and "4155550199" as one subscriber', async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const campaign = await createCampaign(key);
    const forms = ["(415) 555-0199", "+1 415 555 0199", "4155550199"];
    const results = [];
    for (const phone of forms) results.push(await optIn(key, { phone, campaignId: campaign.id }));
    expect(results.map((r) => r.changed)).toEqual([true, false, false]);
    expect(new Set(results.map((r) => r.consent.subscriber.id)).size).toBe(1);
    expect(results[0].consent.subscriber.phone).toBe("+14155550199");
    expect(await rowCounts(org.rowId)).toMatchObject({
      subscribers: 1,
      consents: 1,
      consentEvents: 1,
    });
    for (const phone of forms) {
      const data = await ok(key, SubscriberConsents, { phone });
      expect(data.subscriber?.id).toBe(results[0].consent.subscriber.id);
    }
    // the opt-out written another way reaches the same consent
    const out = await optOut(key, { phone: forms[2], campaignId: campaign.id });
    expect(out.consents[0].id).toBe(results[0].consent.id);
    expect(await rowCounts(org.rowId)).toMatchObject({
      subscribers: 1,
      consents: 1,
      consentEvents: 2,
    });
  });
});

describe("the ledger writer's statements", () => {
  // inside the transaction that holds the organization's ledger lock, from the lock to the write
  // (the send cache reads on its own clock, whenever: its statements are not the writer's)
  const underLock = (queries: string[]) => {
    const own = queries.filter((q) => !q.includes(SEND_CACHE_SQL_TAG));
    const lock = own.findIndex((q) => /for no key update/.test(q));
    const write = own.findIndex((q) => /"ledgerHeadHash" =/.test(q));
    return own.slice(lock, write + 1);
  };
  const LOCK = expect.stringMatching(/for no key update/);
  const READ = expect.stringMatching(/json_agg/);
  const WRITE = expect.stringMatching(/"ledgerHeadHash" =/);

  it("lock, one read, one write for a known number; one more to make a new one", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const campaign = await createCampaign(key);
    const other = await createCampaign(key);
    const known = PHONES[0];
    await optIn(key, { phone: known, campaignId: other.id });

    const again = await recordQueries(() => optIn(key, { phone: known, campaignId: campaign.id }));
    expect(underLock(again.queries)).toEqual([LOCK, READ, WRITE]);

    const first = await recordQueries(() =>
      optIn(key, { phone: PHONES[1], campaignId: campaign.id }),
    );
    expect(underLock(first.queries)).toEqual([
      LOCK,
      READ,
      expect.stringMatching(/insert into "Subscriber"/),
      WRITE,
    ]);
  });
});

describe.runIf(engine === "postgres")("the ledger writer's lock (PostgreSQL)", () => {
  it("sends the read right behind the lock: it waits for the lock in the database, not in the process", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const campaign = await createCampaign(key);
    // another writer (another instance, say) holds the organization's ledger head
    await withConnection(async (holder) => {
      await holder.query("BEGIN");
      await holder.query(`select 1 from "Organization" where id = $1::uuid for no key update`, [
        org.rowId,
      ]);
      const { result } = await recordQueries(async (queries) => {
        const writing = optIn(key, { phone: PHONES[0], campaignId: campaign.id });
        const read = () => queries.some((q) => /json_agg/.test(q));
        const deadline = Date.now() + 3000;
        while (!read() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        // sent while the lock was still held elsewhere
        const readWhileLocked = read();
        await holder.query("COMMIT");
        return { readWhileLocked, outcome: await writing };
      });
      expect(result.readWhileLocked).toBe(true);
      expect(result.outcome.changed).toBe(true);
      expect(await verifyLedger(key)).toMatchObject({ ok: true, eventsChecked: 1 });
    });
  });

  it("reads a number's consents by index and their last events one probe each, whatever plan the planner prefers", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const campaign = await createCampaign(key);
    await optIn(key, { phone: PHONES[0], campaignId: campaign.id });
    const query = consentsQuery(org.rowId, [], [PHONES[0]]);
    const { rows } = await withConnection(async (client) => {
      await client.query("BEGIN");
      // as stale statistics can make it: joins by hashing preferred to per-row probes
      await client.query("SET LOCAL enable_nestloop = off");
      const plan = await client.query(`explain (format json) ${query.text}`, query.values);
      await client.query("ROLLBACK");
      return plan;
    });
    interface PlanNode {
      "Node Type": string;
      "Relation Name"?: string;
      Plans?: PlanNode[];
    }
    const ledgerReads: string[][] = [];
    const walk = (node: PlanNode, path: string[]) => {
      const here = [...path, node["Node Type"]];
      if (node["Relation Name"] === "ConsentEvent") ledgerReads.push(here);
      for (const child of node.Plans ?? []) walk(child, here);
    };
    walk((rows[0]["QUERY PLAN"] as { Plan: PlanNode }[])[0].Plan, []);
    // the ledger is read once per consent (a Limit under a nested loop), never scanned to hash
    expect(ledgerReads.length).toBe(1);
    expect(ledgerReads[0].slice(-2)[0]).toBe("Limit");
    expect(ledgerReads[0]).not.toContain("Hash Join");
    expect(ledgerReads[0]).not.toContain("Merge Join");
  });
});

describe("append-only in the database", () => {
  it("refuses a plain UPDATE and DELETE of ConsentEvent", async () => {
    const { key } = await history();
    const before = await ledger(key);
    const victim = before[3];
    const id = rowId(victim.id);
    await expect(
      rawSql(`UPDATE "ConsentEvent" SET "toStatus" = 'OPTED_IN' WHERE id = $1`, [id]),
    ).rejects.toThrow(/append-only/);
    await expect(rawSql(`DELETE FROM "ConsentEvent" WHERE id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    expect(await ledger(key)).toEqual(before);
    expect(await verifyLedger(key)).toMatchObject({ ok: true, eventsChecked: before.length });
  });
});

/** `work` on a connection of its own to the test database (PostgreSQL only), closed after. */
async function withConnection<T>(work: (client: import("pg").Client) => Promise<T>): Promise<T> {
  const { inject } = await import("vitest");
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: inject("postgresUrl") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs statements as a superuser with triggers off (session_replication_role = replica), in one
 * transaction: how someone with database access would tamper with the ledger.
 */
async function tamper(statements: [string, unknown[]][]) {
  await withConnection(async (client) => {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    for (const [sql, params] of statements) {
      const result = await client.query(sql, params);
      expect(result.rowCount).toBe(1);
    }
    await client.query("COMMIT");
  });
}

describe.runIf(engine === "postgres")("tampering (PostgreSQL, triggers bypassed)", () => {
  it("an altered event is named by verifyLedger", async () => {
    const { key } = await history();
    const events = await ledger(key);
    const victim = events.find(
      (e, i) => i > 2 && i < events.length - 2 && e.toStatus !== "OPTED_IN",
    )!;
    expect(victim).toBeDefined();
    await tamper([
      [`UPDATE "ConsentEvent" SET "toStatus" = 'OPTED_IN' WHERE id = $1`, [rowId(victim.id)]],
    ]);
    const after = await ledger(key);
    expect(after.find((e) => e.id === victim.id)?.toStatus).toBe("OPTED_IN");
    expect(await verifyLedger(key)).toEqual({
      ok: false,
      eventsChecked: victim.sequence,
      firstBrokenEventId: victim.id,
    });
  });

  it("a deleted event breaks the chain at the event after it", async () => {
    const { key } = await history();
    const events = await ledger(key);
    const victim = events[4];
    await tamper([[`DELETE FROM "ConsentEvent" WHERE id = $1`, [rowId(victim.id)]]]);
    expect(await verifyLedger(key)).toMatchObject({
      ok: false,
      firstBrokenEventId: events[5].id,
    });
  });

  it("a dropped last event is caught by the organization's recorded head", async () => {
    const { org, key } = await history();
    const events = await ledger(key);
    const last = events.at(-1)!;
    await tamper([[`DELETE FROM "ConsentEvent" WHERE id = $1`, [rowId(last.id)]]]);
    const check = await verifyLedger(key);
    expect(check.ok).toBe(false);
    expect(check.eventsChecked).toBe(events.length - 1);
    // and the app's own view: the head still says n
    const app = await testApp();
    const head = await app.db.prisma.organization.findUniqueOrThrow({ where: { id: org.rowId } });
    expect(head.ledgerSequence).toBe(events.length);
  });
});
