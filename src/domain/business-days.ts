// Business days as the FCC counts them for honouring a revocation (47 CFR 64.1200(a)(10): "within
// 10 business days of receipt"): weekends and US federal holidays do not count. A holiday that
// falls on a Saturday is observed on the Friday before, one on a Sunday on the Monday after (New
// Year's Day on a Saturday is observed on December 31 of the year before), as OPM sets them; the
// calendar comes from 18F's @18f/us-federal-holidays. Days are counted in US Eastern time, where
// the FCC sits, so a message received late at night in California counts from its Eastern date.
import { isAHoliday } from "@18f/us-federal-holidays";
import { DateTime } from "luxon";

export const BUSINESS_DAY_ZONE = "America/New_York";

/** The FCC's limit for honouring a revocation, in business days after its receipt. */
export const REVOCATION_BUSINESS_DAYS = 10;

/** Whether this calendar date (year, month 1–12, day) is a business day. */
export function isBusinessDay(date: { year: number; month: number; day: number }): boolean {
  const day = DateTime.utc(date.year, date.month, date.day);
  if (day.weekday >= 6) return false;
  return !isAHoliday(day.toJSDate(), { utc: true });
}

/**
 * The end of the `count`th business day after the (Eastern) day of `at`: the first instant of the
 * next calendar day in US Eastern time. The day of `at` itself is day 0, whatever it is.
 */
export function endOfBusinessDaysAfter(at: Date, count: number): Date {
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`bad business day count ${count}`);
  let day = DateTime.fromJSDate(at, { zone: BUSINESS_DAY_ZONE }).startOf("day");
  let counted = 0;
  while (counted < count) {
    day = day.plus({ days: 1 });
    if (isBusinessDay(day)) counted += 1;
  }
  return day.plus({ days: 1 }).startOf("day").toJSDate();
}

/**
 * When a message marked for review must be decided: the end of the FCC's 10th business day after
 * its receipt, less a safety margin of business days.
 */
export function reviewDueAt(receivedAt: Date, marginBusinessDays: number): Date {
  return endOfBusinessDaysAfter(
    receivedAt,
    Math.max(0, REVOCATION_BUSINESS_DAYS - marginBusinessDays),
  );
}
