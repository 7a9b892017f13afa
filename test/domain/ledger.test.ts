// The hash chain: canonical form is stable across key order, any altered fact breaks verification
// at exactly that event, and the recorded head must be the last event.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalEvent,
  ChainVerifier,
  eventHash,
  GENESIS_HASH,
  type LedgerFacts,
  type StoredEvent,
} from "../../src/domain/ledger.ts";

const facts = (sequence: number, evidence: unknown = { ip: "203.0.113.7" }): LedgerFacts => ({
  organizationId: "01900000-0000-7000-8000-000000000001",
  sequence,
  subscriberId: "01900000-0000-7000-8000-000000000002",
  campaignId: "01900000-0000-7000-8000-000000000003",
  consentId: "01900000-0000-7000-8000-000000000004",
  fromStatus: sequence === 1 ? null : "OPTED_IN",
  toStatus: sequence % 2 === 1 ? "OPTED_IN" : "OPTED_OUT",
  method: "API",
  occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)),
  recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence, 500)),
  evidence,
  disclosureVersionId: null,
  apiKeyId: null,
  keywordEventId: null,
});

function chain(n: number): StoredEvent[] {
  const events: StoredEvent[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const f = facts(i);
    const hash = eventHash(prev, f);
    events.push({ ...f, id: `event-${i}`, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}

const verify = (
  events: StoredEvent[],
  head = { sequence: events.length, hash: events.at(-1)?.hash ?? "" },
) => {
  const verifier = new ChainVerifier();
  verifier.feed(events);
  return verifier.result(head);
};

describe("ledger hash chain", () => {
  it("hashes sha256(prev ‖ newline ‖ canonical JSON)", () => {
    const f = facts(1);
    const expected = createHash("sha256")
      .update(`\n${canonicalEvent(f)}`)
      .digest("hex");
    expect(eventHash(GENESIS_HASH, f)).toBe(expected);
    expect(canonicalEvent(f)).toContain('"occurredAt":"2026-01-01T00:00:01.000Z"');
  });

  it("does not depend on the key order of the evidence (jsonb reorders keys)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (evidence) => {
        const reordered = Object.fromEntries(Object.entries(evidence).reverse());
        expect(eventHash("x", facts(1, evidence))).toBe(eventHash("x", facts(1, reordered)));
      }),
      { numRuns: 200 },
    );
  });

  it("verifies an intact chain", () => {
    expect(verify(chain(5))).toEqual({ ok: true, eventsChecked: 5, firstBrokenEventId: null });
    expect(verify([])).toEqual({ ok: true, eventsChecked: 0, firstBrokenEventId: null });
  });

  it.each([
    ["status", (e: StoredEvent) => ({ ...e, toStatus: "OPTED_IN" as const })],
    ["evidence", (e: StoredEvent) => ({ ...e, evidence: { ip: "198.51.100.1" } })],
    ["time", (e: StoredEvent) => ({ ...e, occurredAt: new Date(0) })],
    ["hash", (e: StoredEvent) => ({ ...e, hash: "0".repeat(64) })],
    ["sequence", (e: StoredEvent) => ({ ...e, sequence: 9 })],
  ])("names exactly the event whose %s was altered", (_what, alter) => {
    const events = chain(6);
    events[3] = alter(events[3]);
    expect(verify(events)).toMatchObject({
      ok: false,
      firstBrokenEventId: "event-4",
      eventsChecked: 4,
    });
  });

  it("notices a missing event and a head that is not the last event", () => {
    const events = chain(5);
    expect(
      verify([...events.slice(0, 2), ...events.slice(3)], { sequence: 5, hash: events[4].hash }),
    ).toMatchObject({
      ok: false,
      firstBrokenEventId: "event-4",
    });
    expect(verify(events.slice(0, 4), { sequence: 5, hash: events[4].hash })).toEqual({
      ok: false,
      eventsChecked: 4,
      firstBrokenEventId: null,
    });
  });
});
