// The one date-time rule: ISO 8601 with a zone, on the calendar and the clock, 2000 to 9999.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EARLIEST_DATE_TIME, LATEST_DATE_TIME, readDateTime } from "../../src/domain/date-time.ts";
import { checkImportRow, readImportHeader } from "../../src/domain/import-row.ts";

describe("readDateTime", () => {
  it.each<[string, string]>([
    ["2026-05-01T14:30:00Z", "2026-05-01T14:30:00.000Z"],
    ["2026-05-01T14:30Z", "2026-05-01T14:30:00.000Z"],
    ["2026-05-01t14:30:00z", "2026-05-01T14:30:00.000Z"],
    ["2026-05-01T14:30:00.123456789+05:30", "2026-05-01T09:00:00.123Z"],
    ["2026-05-01T14:30:00+0530", "2026-05-01T09:00:00.000Z"],
    ["2026-05-01T14:30:00-04", "2026-05-01T18:30:00.000Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00.000Z"],
    ["2000-01-01T01:00:00+01:00", "2000-01-01T00:00:00.000Z"],
    ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
  ])("reads %s as %s", (text, iso) => {
    const reading = readDateTime(text);
    expect(reading.ok && reading.date.toISOString()).toBe(iso);
  });

  it.each<[string, RegExp]>([
    ["2026-02-30T10:00:00Z", /is not a date and time that exists/],
    ["2025-02-29T10:00:00Z", /is not a date and time that exists/],
    ["2026-13-01T10:00:00Z", /is not a date and time that exists/],
    ["2026-04-31T10:00:00Z", /is not a date and time that exists/],
    ["2026-05-01T24:00:00Z", /is not a date and time that exists/],
    ["2026-05-01T23:60:00Z", /is not a date and time that exists/],
    ["2026-05-01T23:59:60Z", /is not a date and time that exists/],
    ["2026-05-01T10:00:00+24:00", /is not a date and time that exists/],
    ["0000-01-01T00:00:00Z", /is before 2000-01-01/],
    ["0001-01-01T00:00:00Z", /is before 2000-01-01/],
    ["1999-12-31T23:59:59.999Z", /is before 2000-01-01/],
    ["2000-01-01T00:30:00+01:00", /is before 2000-01-01/],
    ["9999-12-31T23:59:59-00:01", /is after the year 9999/],
    ["2026-05-01", /is not an ISO 8601 date and time with a zone/],
    ["2026-05-01T10:00:00", /is not an ISO 8601 date and time with a zone/],
    ["+012026-05-01T10:00:00Z", /is not an ISO 8601/],
    ["1714555800", /is not an ISO 8601/],
    ["tomorrow", /is not an ISO 8601/],
    ["", /is not an ISO 8601/],
    ["2026-05-01T10:00:00Z ", /is not an ISO 8601/],
  ])("refuses %s", (text, problem) => {
    const reading = readDateTime(text);
    expect(reading.ok).toBe(false);
    expect(!reading.ok && reading.problem).toMatch(problem);
    expect(!reading.ok && reading.problem.startsWith(JSON.stringify(text))).toBe(true);
  });

  it("reads back every instant of the range from its ISO form (property)", () => {
    fc.assert(
      fc.property(
        fc.date({ min: EARLIEST_DATE_TIME, max: LATEST_DATE_TIME, noInvalidDate: true }),
        (date) => {
          const reading = readDateTime(date.toISOString());
          expect(reading.ok && reading.date.getTime()).toBe(date.getTime());
        },
      ),
      { seed: 20261206, numRuns: 1000 },
    );
  });

  it("is the rule of import rows too", () => {
    const header = readImportHeader(["phone", "status", "occurred_at"]);
    const row = (at: string) =>
      checkImportRow(["4155550100", "opted_in", at], header, {
        defaultRegion: "US",
        now: new Date("2026-06-01T00:00:00Z"),
      });
    expect(row("0001-01-01T00:00:00Z")).toEqual({
      ok: false,
      reason: 'occurred_at: "0001-01-01T00:00:00Z" is before 2000-01-01',
    });
    expect(row("2026-02-30T10:00:00Z")).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^occurred_at: .* is not a date and time that exists/),
    });
    expect(row("2026-05-01T10:00:00Z")).toMatchObject({ ok: true });
  });
});
