// The FCC's business days (weekends and US federal holidays, as observed, not counted) and the
// review deadline built on them, as a table of receipts around the holidays that move it.
import fc from "fast-check";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import {
  BUSINESS_DAY_ZONE,
  endOfBusinessDaysAfter,
  isBusinessDay,
  reviewDueAt,
} from "../../src/domain/business-days.ts";

const day = (iso: string) => {
  const [year, month, date] = iso.split("-").map(Number);
  return { year, month, day: date };
};

describe("isBusinessDay", () => {
  it.each([
    ["2026-07-03", false, "Independence Day 2026 falls on a Saturday: observed Friday July 3"],
    ["2026-07-04", false, "a Saturday"],
    ["2026-07-06", true, "the Monday after"],
    ["2027-07-05", false, "Independence Day 2027 falls on a Sunday: observed Monday July 5"],
    ["2021-12-31", false, "New Year's Day 2022 falls on a Saturday: observed Friday Dec 31, 2021"],
    ["2026-11-26", false, "Thanksgiving, fourth Thursday of November"],
    ["2026-11-27", true, "the day after Thanksgiving is no federal holiday"],
    ["2026-12-24", true, "Christmas Eve is no federal holiday"],
    ["2026-12-25", false, "Christmas Day"],
    ["2027-01-01", false, "New Year's Day"],
    ["2026-01-19", false, "Martin Luther King Jr. Day, third Monday of January"],
    ["2026-02-16", false, "Washington's Birthday, third Monday of February"],
    ["2026-05-25", false, "Memorial Day, last Monday of May"],
    ["2026-06-19", false, "Juneteenth"],
    ["2027-06-18", false, "Juneteenth 2027 falls on a Saturday: observed Friday June 18"],
    ["2026-09-07", false, "Labor Day"],
    ["2026-10-12", false, "Columbus Day"],
    ["2026-11-11", false, "Veterans Day (a Wednesday)"],
    ["2026-12-05", false, "a Saturday"],
    ["2026-12-06", false, "a Sunday"],
    ["2026-12-07", true, "a plain Monday"],
  ])("%s → %s (%s)", (date, expected) => {
    expect(isBusinessDay(day(date))).toBe(expected);
  });
});

// [received (UTC), business days, due (UTC): the end of that business day in US Eastern time]
const deadlines: [string, number, string, string][] = [
  [
    "2026-11-25T20:00:00Z",
    10,
    "2026-12-11T05:00:00.000Z",
    "Wednesday before Thanksgiving: Thu 26 skipped, the 10th is Thu Dec 10",
  ],
  ["2026-11-25T20:00:00Z", 8, "2026-12-09T05:00:00.000Z", "the same with the default margin of 2"],
  [
    "2026-11-25T04:30:00Z",
    10,
    "2026-12-10T05:00:00.000Z",
    "late Tuesday evening in Eastern time (already Wednesday in UTC) counts from Tuesday",
  ],
  [
    "2026-12-22T15:00:00Z",
    10,
    "2027-01-08T05:00:00.000Z",
    "before Christmas and New Year's (both Fridays): the 10th is Thu Jan 7",
  ],
  ["2026-12-22T15:00:00Z", 8, "2027-01-06T05:00:00.000Z", "the same with the margin"],
  [
    "2026-07-01T15:00:00Z",
    10,
    "2026-07-17T04:00:00.000Z",
    "July 4 on a Saturday: Fri July 3 skipped, the 10th is Thu July 16 (EDT)",
  ],
  [
    "2027-07-02T15:00:00Z",
    10,
    "2027-07-20T04:00:00.000Z",
    "July 4 on a Sunday: Mon July 5 skipped, the 10th is Mon July 19",
  ],
  [
    "2021-12-30T15:00:00Z",
    10,
    "2022-01-15T05:00:00.000Z",
    "New Year's Day on a Saturday: Fri Dec 31 skipped, the 10th is Fri Jan 14",
  ],
  [
    "2026-12-05T15:00:00Z",
    10,
    "2026-12-19T05:00:00.000Z",
    "received on a Saturday: counting starts Monday, the 10th is Fri Dec 18",
  ],
  [
    "2026-03-05T15:00:00Z",
    10,
    "2026-03-20T04:00:00.000Z",
    "across the start of daylight saving time (Mar 8): the end of Thu Mar 19 in EDT",
  ],
  ["2026-12-07T15:00:00Z", 0, "2026-12-08T05:00:00.000Z", "no business days: the end of that day"],
  [
    "2026-12-24T15:00:00Z",
    1,
    "2026-12-29T05:00:00.000Z",
    "one business day after Christmas Eve: Mon Dec 28",
  ],
];

describe("endOfBusinessDaysAfter", () => {
  it.each(deadlines)("%s + %i business days → %s (%s)", (received, count, due) => {
    expect(endOfBusinessDaysAfter(new Date(received), count).toISOString()).toBe(due);
  });
});

describe("reviewDueAt", () => {
  it("is the end of the 10th business day less the margin", () => {
    const received = new Date("2026-11-25T20:00:00Z");
    expect(reviewDueAt(received, 0).toISOString()).toBe("2026-12-11T05:00:00.000Z");
    expect(reviewDueAt(received, 2).toISOString()).toBe("2026-12-09T05:00:00.000Z");
  });

  it("is never before the end of the day of receipt", () => {
    const received = new Date("2026-12-07T15:00:00Z");
    expect(reviewDueAt(received, 9).toISOString()).toBe("2026-12-09T05:00:00.000Z");
    expect(endOfBusinessDaysAfter(received, 0).getTime()).toBeGreaterThan(received.getTime());
  });
});

describe("endOfBusinessDaysAfter, for any instant and count", () => {
  const instants = fc.date({
    min: new Date("2000-01-01T00:00:00Z"),
    max: new Date("2099-12-31T00:00:00Z"),
    noInvalidDate: true,
  });

  it("ends at an Eastern midnight after the receipt, on a counted business day, one more day per count", () => {
    fc.assert(
      fc.property(instants, fc.integer({ min: 0, max: 15 }), (at, count) => {
        const due = endOfBusinessDaysAfter(at, count);
        const end = DateTime.fromJSDate(due, { zone: BUSINESS_DAY_ZONE });
        expect(end.toFormat("HH:mm:ss.SSS")).toBe("00:00:00.000");
        expect(due.getTime()).toBeGreaterThan(at.getTime());
        const lastDay = end.minus({ days: 1 });
        if (count > 0) expect(isBusinessDay(lastDay)).toBe(true);
        // exactly `count` business days after the day of receipt, up to and with the last day
        let counted = 0;
        let day = DateTime.fromJSDate(at, { zone: BUSINESS_DAY_ZONE }).startOf("day");
        while (day < lastDay) {
          day = day.plus({ days: 1 });
          if (isBusinessDay(day)) counted += 1;
        }
        expect(counted).toBe(count);
        expect(endOfBusinessDaysAfter(at, count + 1).getTime()).toBeGreaterThan(due.getTime());
      }),
      { numRuns: 300 },
    );
  });
});
