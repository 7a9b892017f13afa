// The one rule for dates and times that come in (the GraphQL DateTime scalar, HTTP query
// parameters, CSV imports): an ISO 8601 / RFC 3339 date and time with a zone (Z or an offset),
// that exists on the calendar and the clock, between 2000-01-01 and the end of the year 9999. No
// consent, message or audience in this system is older, and a lenient parser would quietly read
// 2026-02-30 as March 2 or year 0 as a real instant.

import { badInput } from "./errors.ts";

export const EARLIEST_DATE_TIME = new Date("2000-01-01T00:00:00.000Z");
export const LATEST_DATE_TIME = new Date("9999-12-31T23:59:59.999Z");

export const DATE_TIME_EXAMPLE = "2026-05-01T14:30:00Z";

const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)$/i;

export type DateTimeReading = { ok: true; date: Date } | { ok: false; problem: string };

const quoted = (value: string) =>
  JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

/** A date and time as this system accepts it, or the problem with it, worded for a person. */
export function readDateTime(text: string): DateTimeReading {
  const match = PATTERN.exec(text);
  if (!match) {
    return {
      ok: false,
      problem: `${quoted(text)} is not an ISO 8601 date and time with a zone (e.g. ${DATE_TIME_EXAMPLE})`,
    };
  }
  const [, y, mo, d, h, mi, s = "0", fraction = "", zone, sign, oh = "0", om = "0"] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  const offsetMinutes =
    zone.toUpperCase() === "Z" ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om));
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  const calendar = new Date(0);
  calendar.setUTCFullYear(year, month - 1, day);
  const onCalendar =
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month - 1 &&
    calendar.getUTCDate() === day;
  const onClock =
    hour <= 23 && minute <= 59 && second <= 59 && Number(oh) <= 23 && Number(om) <= 59;
  if (!onCalendar || !onClock) {
    return { ok: false, problem: `${quoted(text)} is not a date and time that exists` };
  }
  const milliseconds = Number(fraction.padEnd(3, "0").slice(0, 3));
  calendar.setUTCHours(hour, minute, second, milliseconds);
  const date = new Date(calendar.getTime() - offsetMinutes * 60_000);
  return checkDateTimeRange(date, text);
}

/** Whether an instant lies in the accepted range (for dates that arrive already parsed). */
export function checkDateTimeRange(date: Date, text = date.toISOString()): DateTimeReading {
  if (Number.isNaN(date.getTime())) {
    return { ok: false, problem: `${quoted(text)} is not a date and time that exists` };
  }
  if (date < EARLIEST_DATE_TIME) {
    return { ok: false, problem: `${quoted(text)} is before 2000-01-01` };
  }
  if (date > LATEST_DATE_TIME) {
    return { ok: false, problem: `${quoted(text)} is after the year 9999` };
  }
  return { ok: true, date };
}

/** How far ahead of this server's clock a client's clock may run. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * When something happened, as a client states it: now when not given; refused as bad input of
 * `field` when it lies in the future (beyond a clock's drift).
 */
export function pastOrNow(value: Date | null | undefined, now: Date, field: string): Date {
  if (!value) return now;
  if (Number.isNaN(value.getTime())) throw badInput(field, "is not a date");
  if (value.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw badInput(field, `${value.toISOString()} is in the future`);
  }
  return value;
}
