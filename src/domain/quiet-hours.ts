// Quiet hours for marketing texts (COMPLIANCE.md): federal 8:00–21:00 recipient-local; Florida and
// Oklahoma 8:00–20:00; Texas 9:00–21:00 Monday–Saturday and 12:00–21:00 Sunday. When the
// recipient's zone or state is uncertain, every candidate must allow the send (strictest wins).
import { DateTime } from "luxon";

export type QuietHoursState = "FL" | "OK" | "TX";
export const QUIET_HOURS_STATES: readonly QuietHoursState[] = ["FL", "OK", "TX"];

/** Where a recipient may be: candidate IANA zones and candidate states with rules of their own. */
export interface RecipientRegion {
  zones: readonly string[];
  states: readonly QuietHoursState[];
}

/** Minutes after local midnight: [opens, closes) on an ISO weekday (1 Monday … 7 Sunday). */
type Window = (weekday: number) => readonly [number, number];

const h = (hours: number) => hours * 60;
const FEDERAL: Window = () => [h(8), h(21)];
const STATE_RULES: Record<QuietHoursState, Window> = {
  FL: () => [h(8), h(20)],
  OK: () => [h(8), h(20)],
  TX: (weekday) => (weekday === 7 ? [h(12), h(21)] : [h(9), h(21)]),
};

function windowsFor(region: RecipientRegion): Window[] {
  return [FEDERAL, ...region.states.map((state) => STATE_RULES[state])];
}

function openIn(at: Date, zone: string, windows: readonly Window[]): boolean {
  const local = DateTime.fromJSDate(at, { zone });
  const minute = local.hour * 60 + local.minute + local.second / 60 + local.millisecond / 60_000;
  return windows.every((window) => {
    const [opens, closes] = window(local.weekday);
    return minute >= opens && minute < closes;
  });
}

export function withinSendingHours(at: Date, region: RecipientRegion): boolean {
  const windows = windowsFor(region);
  return region.zones.every((zone) => openIn(at, zone, windows));
}

/**
 * The first instant at or after `at` when every candidate zone and rule allows a send. That
 * instant is always the opening of some window in some zone, so those are the only candidates.
 */
export function nextSendingInstant(at: Date, region: RecipientRegion): Date | null {
  // A pure function of its arguments, and costly in time-zone arithmetic: a batch decides one
  // instant for many numbers of few regions, so the answers are remembered (a bounded memo).
  const key = `${at.getTime()}|${region.zones.join(",")}|${region.states.join(",")}`;
  if (!memo.has(key)) {
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(key, computeNextSendingInstant(at, region)?.getTime() ?? null);
  }
  const next = memo.get(key)!;
  return next === null ? null : new Date(next);
}

const MEMO_SIZE = 4096;
const memo = new Map<string, number | null>();

function computeNextSendingInstant(at: Date, region: RecipientRegion): Date | null {
  if (withinSendingHours(at, region)) return at;
  const windows = windowsFor(region);
  const candidates: number[] = [];
  for (const zone of region.zones) {
    const today = DateTime.fromJSDate(at, { zone }).startOf("day");
    for (let day = 0; day <= 8; day++) {
      const date = today.plus({ days: day });
      for (const window of windows) {
        const [opens] = window(date.weekday);
        const instant = date.set({ hour: Math.floor(opens / 60), minute: opens % 60 }).toMillis();
        if (instant > at.getTime()) candidates.push(instant);
      }
    }
  }
  candidates.sort((a, b) => a - b);
  for (const instant of candidates) {
    const date = new Date(instant);
    if (withinSendingHours(date, region)) return date;
  }
  return null;
}

export function isValidTimeZone(zone: string): boolean {
  return DateTime.local().setZone(zone).isValid;
}
