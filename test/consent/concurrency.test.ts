// Concurrency on real PostgreSQL: 20 clients over real HTTP hammer the same 3 subscribers × 2
// campaigns of one organization with random opt-ins and opt-outs. The ledger must come out
// serial: gap-free sequences, one event per reported change, each consent equal to its last
// event, each event starting where the consent's previous one ended, and an intact hash chain.
import { describe, expect, it } from "vitest";
import { engine } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { consentOf, ledger, optIn, optOut, verifyLedger } from "./ops.ts";

const CLIENTS = 20;
const CALLS_PER_CLIENT = 50;
const PHONES = ["+14155550161", "+14155550162", "+14155550163"];

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.runIf(engine === "postgres")("concurrent opt-ins and opt-outs (PostgreSQL)", () => {
  it(`${CLIENTS} clients × ${CALLS_PER_CLIENT} calls on 3 subscribers × 2 campaigns keep the ledger serial`, async () => {
    const seed = Number(process.env.CONSENT_CONCURRENCY_SEED ?? Date.now() % 2 ** 31);
    console.log(`concurrency seed: ${seed} (replay with CONSENT_CONCURRENCY_SEED=${seed})`);
    const org = await newOrganization();
    const key = org.adminKey;
    const campaigns = [
      await createCampaign(key, { doubleOptIn: false }),
      await createCampaign(key, { doubleOptIn: true }),
    ];

    let changedResponses = 0;
    let optIns = 0;
    let optOuts = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const random = prng(seed + client);
        for (let call = 0; call < CALLS_PER_CLIENT; call++) {
          const phone = PHONES[Math.floor(random() * PHONES.length)];
          const campaignId = campaigns[Math.floor(random() * campaigns.length)].id;
          if (random() < 0.5) {
            optIns++;
            const method = random() < 0.5 ? "API" : "WEB_FORM";
            const result = await optIn(key, { phone, campaignId, method });
            expect(Boolean(result.event)).toBe(result.changed);
            if (result.changed) changedResponses++;
          } else {
            optOuts++;
            const result = await optOut(key, { phone, campaignId });
            expect(result.events.length).toBe(result.changed ? 1 : 0);
            if (result.changed) changedResponses++;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const calls = CLIENTS * CALLS_PER_CLIENT;
    console.log(
      `concurrency: ${calls} calls (${optIns} optIn, ${optOuts} optOut) from ${CLIENTS} clients in ` +
        `${seconds.toFixed(2)} s: ${(calls / seconds).toFixed(0)} calls/s, ` +
        `${(optIns / seconds).toFixed(0)} optIn calls/s, ${changedResponses} changes`,
    );

    const events = await ledger(key);
    // sequences exactly 1..N, no gap, no duplicate
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    // one event per response that reported a change
    expect(events).toHaveLength(changedResponses);
    expect(changedResponses).toBeGreaterThan(0);
    // no two events share (consentId, sequence)
    const pairs = new Set(events.map((e) => `${e.consent!.id}:${e.sequence}`));
    expect(pairs.size).toBe(events.length);

    // per consent: each event starts where the previous one ended; the consent is its last event
    const byConsent = new Map<string, typeof events>();
    for (const event of events) {
      const list = byConsent.get(event.consent!.id) ?? [];
      list.push(event);
      byConsent.set(event.consent!.id, list);
    }
    expect(byConsent.size).toBe(PHONES.length * campaigns.length);
    for (const phone of PHONES) {
      for (const campaign of campaigns) {
        const consent = await consentOf(key, phone, campaign.id);
        expect(consent).not.toBeNull();
        const own = byConsent.get(consent!.id)!;
        let previous: string | null = null;
        for (const event of own) {
          expect(event.fromStatus, `event ${event.sequence}`).toBe(previous);
          expect(event.toStatus).not.toBe(event.fromStatus);
          previous = event.toStatus;
        }
        expect(consent!.status).toBe(own.at(-1)!.toStatus);
      }
    }

    expect(await verifyLedger(key)).toEqual({
      ok: true,
      eventsChecked: events.length,
      firstBrokenEventId: null,
    });
  });
});
