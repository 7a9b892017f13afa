// The send cache's in-memory consents: rows merged by the ledger sequence that produced them, in
// whatever order they arrive (a local commit, then a catch-up read begun before it), one consent
// per number and campaign, the stored time zone kept current, the instants handed back exactly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConsentSnapshot, type HeldRow } from "../../src/services/consent-snapshot.ts";

const ORG = "0190a000-0000-7000-8000-000000000000";
const CAMPAIGNS = [
  "0190a000-0000-7000-8000-00000000000a",
  "0190a000-0000-7000-8000-00000000000b",
  "0190a000-0000-7000-8000-00000000000c",
];
const PHONES = ["+14155550101", "+14155550102"];
const STATUSES = ["PENDING", "OPTED_IN", "OPTED_OUT", "EXPIRED"] as const;

function row(phone: number, campaign: number, sequence: number, timezone?: string | null): HeldRow {
  return {
    phone: PHONES[phone],
    subscriberId: `0190a000-0000-7000-8000-00000000010${phone}`,
    timezone,
    id: `0190a000-0000-7000-8000-0000000002${phone}${campaign}`,
    campaignId: CAMPAIGNS[campaign],
    status: STATUSES[sequence % STATUSES.length],
    method: "API",
    disclosureVersionId: null,
    lastSequence: sequence,
    expiresAt: sequence % 4 === 0 ? 1_700_000_000_123 + sequence : null,
    hadConsented: sequence % 2 === 0,
    createdAt: 1_600_000_000_001,
    updatedAt: 1_600_000_000_001 + sequence,
  };
}

describe("ConsentSnapshot", () => {
  it("answers a number it does not hold like one without consent", () => {
    const snapshot = new ConsentSnapshot(ORG);
    expect(snapshot.lookup(PHONES[0], CAMPAIGNS[0])).toEqual({
      consent: null,
      timezone: null,
      state: null,
    });
    snapshot.put({ ...row(0, 0, 1, "America/Chicago"), state: "CT" });
    expect(snapshot.lookup(PHONES[0], CAMPAIGNS[1])).toEqual({
      consent: null,
      timezone: "America/Chicago",
      state: "CT",
    });
  });

  it("hands a consent back with its columns and exact instants", () => {
    const snapshot = new ConsentSnapshot(ORG);
    snapshot.put(row(1, 2, 8, null));
    expect(snapshot.lookup(PHONES[1], CAMPAIGNS[2]).consent).toEqual({
      id: "0190a000-0000-7000-8000-000000000212",
      organizationId: ORG,
      subscriberId: "0190a000-0000-7000-8000-000000000101",
      campaignId: CAMPAIGNS[2],
      status: "PENDING",
      method: "API",
      disclosureVersionId: null,
      lastSequence: 8,
      expiresAt: new Date(1_700_000_000_131),
      hadConsented: true,
      createdAt: new Date(1_600_000_000_001),
      updatedAt: new Date(1_600_000_000_009),
    });
  });

  it("keeps the state of the latest ledger event whatever order rows arrive in", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            phone: fc.integer({ min: 0, max: 1 }),
            campaign: fc.integer({ min: 0, max: 2 }),
            sequence: fc.integer({ min: 1, max: 1000 }),
          }),
          { maxLength: 40 },
        ),
        (puts) => {
          const snapshot = new ConsentSnapshot(ORG);
          for (const p of puts) snapshot.put(row(p.phone, p.campaign, p.sequence));
          const latest = new Map<string, number>();
          for (const p of puts) {
            const key = `${p.phone}/${p.campaign}`;
            latest.set(key, Math.max(latest.get(key) ?? 0, p.sequence));
          }
          expect(snapshot.size).toBe(latest.size);
          for (let phone = 0; phone < 2; phone++) {
            for (let campaign = 0; campaign < 3; campaign++) {
              const consent = snapshot.lookup(PHONES[phone], CAMPAIGNS[campaign]).consent;
              const sequence = latest.get(`${phone}/${campaign}`);
              expect(consent?.lastSequence ?? null).toBe(sequence ?? null);
              if (sequence) expect(consent!.status).toBe(STATUSES[sequence % STATUSES.length]);
            }
          }
        },
      ),
    );
  });

  it("keeps the stored time zone a read brings, and leaves it to a local commit that does not", () => {
    const snapshot = new ConsentSnapshot(ORG);
    snapshot.put(row(0, 0, 1, "America/New_York"));
    snapshot.put(row(0, 1, 2, undefined));
    expect(snapshot.lookup(PHONES[0], CAMPAIGNS[1]).timezone).toBe("America/New_York");
    snapshot.put(row(0, 0, 3, null));
    expect(snapshot.lookup(PHONES[0], CAMPAIGNS[0]).timezone).toBeNull();
  });
});
