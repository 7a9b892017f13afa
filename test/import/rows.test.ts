// The pure rules of an import row: the header, each column's checks, what makes two rows the same
// record, and the order a batch is applied in.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyOrder,
  campaignReference,
  checkImportRow,
  readImportHeader,
  recordFingerprint,
  type ImportRecord,
} from "../../src/domain/import-row.ts";

const now = new Date("2025-01-01T00:00:00Z");
const options = { defaultRegion: "US", now };

describe("header", () => {
  it("maps columns case-insensitively, in any order, with optional ones absent", () => {
    expect(readImportHeader([" Occurred_At", "PHONE", "status", "ip"])).toEqual({
      occurred_at: 0,
      phone: 1,
      status: 2,
      ip: 3,
      width: 4,
    });
  });

  it.each([
    [["phone", "status"], "header: missing column occurred_at"],
    [["phone"], "header: missing columns status, occurred_at"],
    [["phone", "status", "occurred_at", ""], 'header: unknown column ""'],
    [["phone", "status", "occurred_at", "STATUS"], 'header: column "status" appears twice'],
  ])("refuses %j", (fields, message) => {
    expect(() => readImportHeader(fields)).toThrow(message);
  });
});

describe("row", () => {
  const header = readImportHeader([
    "phone",
    "status",
    "occurred_at",
    "method",
    "campaign",
    "ip",
    "user_agent",
    "source_url",
    "consent_text",
  ]);
  const good = [
    "(415) 555-0100",
    "Opted_In",
    "2024-05-01T09:30:00-04:00",
    "keyword",
    "",
    "",
    "",
    "",
    "",
  ];
  const check = (changes: Record<number, string>) =>
    checkImportRow(
      good.map((value, i) => changes[i] ?? value),
      header,
      options,
    );

  it("reads a good row into a typed record, values trimmed, empty optional ones absent", () => {
    expect(check({ 5: " 192.0.2.1 ", 7: "https://acme.example/join", 4: " Spring " })).toEqual({
      ok: true,
      record: {
        phone: "+14155550100",
        status: "OPTED_IN",
        occurredAt: new Date("2024-05-01T13:30:00Z"),
        method: "KEYWORD",
        campaign: "Spring",
        evidence: { ip: "192.0.2.1", pageUrl: "https://acme.example/join" },
      },
    });
    expect(check({ 3: "" })).toMatchObject({ ok: true, record: { method: "IMPORT" } });
  });

  it.each([
    [{ 2: "2024-05-01T09:30Z" }, true],
    [{ 2: "2024-05-01T09:30:00.123+05:30" }, true],
    [{ 2: "2024-05-01T09:30:00+0530" }, true],
    [{ 2: "2024-02-30T09:30:00Z" }, false],
    [{ 2: "2024-05-01" }, false],
    [{ 2: "1714555800" }, false],
    [{ 2: "2025-01-01T00:04:00Z" }, true],
    [{ 2: "2025-01-01T00:06:00Z" }, false],
  ])("occurred_at %j accepted: %s", (changes, accepted) => {
    expect(check(changes).ok).toBe(accepted);
  });

  it("names the first column at fault", () => {
    expect(check({ 0: "0", 1: "maybe" })).toMatchObject({ ok: false, reason: /^phone: / });
    expect(check({ 1: "maybe", 3: "FAX" })).toMatchObject({ ok: false, reason: /^status: / });
    expect(check({ 8: "z".repeat(4001) })).toEqual({
      ok: false,
      reason: "consent_text: must be at most 4000 characters",
    });
    expect(check({ 7: "javascript:alert(1)" })).toMatchObject({ reason: /^source_url: / });
    expect(checkImportRow(good.slice(0, 8), header, options)).toEqual({
      ok: false,
      reason: "row has 8 fields; the header has 9",
    });
  });
});

describe("campaign reference", () => {
  const id = "0190a000-0000-7000-8000-00000000000a";
  it.each([
    [id, { id }],
    [id.toUpperCase(), { id }],
    [Buffer.from(`Campaign:${id}`).toString("base64"), { id }],
    [
      Buffer.from(`Sender:${id}`).toString("base64"),
      { name: Buffer.from(`Sender:${id}`).toString("base64") },
    ],
    ["Spring deals", { name: "Spring deals" }],
  ])("%s", (value, reference) => {
    expect(campaignReference(value)).toEqual(reference);
  });
});

const record = (overrides: Partial<ImportRecord> = {}): ImportRecord => ({
  phone: "+14155550100",
  status: "OPTED_IN",
  occurredAt: new Date("2024-01-01T00:00:00Z"),
  method: "WEB_FORM",
  campaign: null,
  evidence: {},
  ...overrides,
});

describe("record identity", () => {
  it("is the campaign, number, status, time and method; not the evidence", () => {
    const base = recordFingerprint("c1", record());
    expect(recordFingerprint("c1", record({ evidence: { ip: "192.0.2.1" }, campaign: "x" }))).toBe(
      base,
    );
    for (const other of [
      recordFingerprint("c2", record()),
      recordFingerprint("c1", record({ phone: "+14155550101" })),
      recordFingerprint("c1", record({ status: "OPTED_OUT" })),
      recordFingerprint("c1", record({ occurredAt: new Date("2024-01-01T00:00:00.001Z") })),
      recordFingerprint("c1", record({ method: "API" })),
    ]) {
      expect(other).not.toBe(base);
    }
  });
});

describe("apply order", () => {
  const rows = fc.array(
    fc.record({
      row: fc.integer({ min: 2, max: 1_000_000 }),
      record: fc.record({
        status: fc.constantFrom("OPTED_IN" as const, "OPTED_OUT" as const),
        at: fc.integer({ min: 0, max: 5 }),
      }),
    }),
    { maxLength: 30 },
  );
  const items = (
    generated: { row: number; record: { status: ImportRecord["status"]; at: number } }[],
  ) =>
    generated.map(({ row, record: r }, i) => ({
      row: row * 100 + i,
      record: record({ status: r.status, occurredAt: new Date(r.at * 1000) }),
    }));

  it("is a total order: every arrangement of a batch is applied the same way", () => {
    fc.assert(
      fc.property(rows, fc.integer(), (generated, seed) => {
        const batch = items(generated);
        const shuffled = [...batch].sort(
          (a, b) => ((a.row * 2654435761) ^ seed) - ((b.row * 2654435761) ^ seed),
        );
        expect(shuffled.sort(applyOrder)).toEqual([...batch].sort(applyOrder));
      }),
    );
  });

  it("puts the opt-out last among changes of one instant, and time first", () => {
    fc.assert(
      fc.property(rows, (generated) => {
        const sorted = items(generated).sort(applyOrder);
        for (let i = 1; i < sorted.length; i++) {
          const [a, b] = [sorted[i - 1].record, sorted[i].record];
          expect(a.occurredAt.getTime()).toBeLessThanOrEqual(b.occurredAt.getTime());
          if (a.occurredAt.getTime() === b.occurredAt.getTime() && a.status !== b.status) {
            expect(a.status).toBe("OPTED_IN");
          }
        }
      }),
    );
  });
});
