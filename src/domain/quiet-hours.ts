// Quiet hours for marketing texts, read from the send-rules table (send-rules.ts): the federal
// window everywhere, and the rules of the states the recipient may be in, each from the day it took
// effect. When the recipient's zone or state is uncertain, every candidate must allow the send
// (the strictest wins).
import { DateTime } from "luxon";
import { QUIET_HOURS_RULES, type QuietHoursRule } from "./send-rules.ts";

/** Where a recipient may be: candidate IANA zones and candidate states (two-letter codes). */
export interface RecipientRegion {
  zones: readonly string[];
  states: readonly string[];
}

/** A rule as the decision reads it: local minutes [opens, closes) for each ISO weekday. */
interface CompiledRule {
  jurisdiction: string;
  /** the first local day it governs, as yyyymmdd */
  effectiveFrom: number;
  /** index 1 (Monday) … 7 (Sunday) */
  byWeekday: readonly (readonly [number, number])[];
}

const HH_MM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;

function minutesOf(text: string, where: string): number {
  const match = HH_MM.exec(text);
  if (!match) throw new Error(`send rules: ${where}: "${text}" is not HH:MM`);
  return Number(match[1] ?? match[3]) * 60 + Number(match[2] ?? match[4]);
}

/**
 * Checks a rule row and turns it into the form the decision reads. A malformed row stops the
 * service at start-up (a wrong table must never decide sends).
 */
export function compileRule(rule: QuietHoursRule): CompiledRule {
  const where = `${rule.jurisdiction} ${rule.effectiveFrom}`;
  if (rule.jurisdiction !== "US" && !/^[A-Z]{2}$/.test(rule.jurisdiction)) {
    throw new Error(`send rules: ${where}: jurisdiction must be US or a state code`);
  }
  if (
    !DateTime.fromISO(rule.effectiveFrom, { zone: "UTC" }).isValid ||
    rule.effectiveFrom.length !== 10
  ) {
    throw new Error(`send rules: ${where}: effectiveFrom must be a date (YYYY-MM-DD)`);
  }
  if (!rule.source.citation.trim() || !/^https?:\/\//.test(rule.source.url)) {
    throw new Error(`send rules: ${where}: a rule needs a citation and a source URL`);
  }
  const byWeekday: [number, number][] = [];
  for (const window of rule.windows) {
    const opens = minutesOf(window.opens, where);
    const closes = minutesOf(window.closes, where);
    if (opens >= closes)
      throw new Error(`send rules: ${where}: a window must open before it closes`);
    for (const day of window.days) {
      if (!Number.isInteger(day) || day < 1 || day > 7 || byWeekday[day]) {
        throw new Error(`send rules: ${where}: weekday ${day} is not 1–7 or appears twice`);
      }
      byWeekday[day] = [opens, closes];
    }
  }
  if (byWeekday.filter(Boolean).length !== 7) {
    throw new Error(`send rules: ${where}: every weekday needs a window`);
  }
  const effectiveFrom = Number(rule.effectiveFrom.replaceAll("-", ""));
  return { jurisdiction: rule.jurisdiction, effectiveFrom, byWeekday };
}

const RULES = QUIET_HOURS_RULES.map(compileRule);

/** The states with hours of their own, in table order. */
export const QUIET_HOURS_STATES: readonly string[] = [
  ...new Set(RULES.map((rule) => rule.jurisdiction).filter((j) => j !== "US")),
];

export const hasStateRule = (state: string) => QUIET_HOURS_STATES.includes(state);

function rulesFor(region: RecipientRegion): CompiledRule[] {
  return RULES.filter(
    (rule) => rule.jurisdiction === "US" || region.states.includes(rule.jurisdiction),
  );
}

function openIn(at: Date, zone: string, rules: readonly CompiledRule[]): boolean {
  const local = DateTime.fromJSDate(at, { zone });
  const day = local.year * 10_000 + local.month * 100 + local.day;
  const minute = local.hour * 60 + local.minute + local.second / 60 + local.millisecond / 60_000;
  return rules.every((rule) => {
    if (day < rule.effectiveFrom) return true;
    const [opens, closes] = rule.byWeekday[local.weekday];
    return minute >= opens && minute < closes;
  });
}

export function withinSendingHours(at: Date, region: RecipientRegion): boolean {
  const rules = rulesFor(region);
  return region.zones.every((zone) => openIn(at, zone, rules));
}

/**
 * The first instant at or after `at` when every candidate zone and rule allows a send. Rules only
 * ever narrow the day (one taking effect at midnight closes nothing that was open and opens
 * nothing), so that instant is `at` itself or the opening of some window in some zone: those are
 * the only candidates.
 */
export function nextSendingInstant(at: Date, region: RecipientRegion): Date | null {
  // A pure function of its arguments, and costly in time-zone arithmetic: a batch decides one
  // instant for many numbers of few regions, so the answers are remembered (a bounded memo keyed
  // by the instant and the region's contents; regions are shared objects, so a region's last
  // answer is also remembered on it, which spares building the key).
  const time = at.getTime();
  const last = lastAnswer.get(region);
  if (last?.at === time) return last.next === null ? null : new Date(last.next);
  const key = `${time}|${region.zones.join(",")}|${region.states.join(",")}`;
  if (!memo.has(key)) {
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(key, computeNextSendingInstant(at, region)?.getTime() ?? null);
  }
  const next = memo.get(key)!;
  lastAnswer.set(region, { at: time, next });
  return next === null ? null : new Date(next);
}

const MEMO_SIZE = 4096;
const memo = new Map<string, number | null>();
/** a region's answer for the instant it was last asked about */
const lastAnswer = new WeakMap<RecipientRegion, { at: number; next: number | null }>();

function computeNextSendingInstant(at: Date, region: RecipientRegion): Date | null {
  if (withinSendingHours(at, region)) return at;
  const rules = rulesFor(region);
  const candidates = new Set<number>();
  for (const zone of region.zones) {
    const today = DateTime.fromJSDate(at, { zone }).startOf("day");
    for (let day = 0; day <= 8; day++) {
      const date = today.plus({ days: day });
      for (const rule of rules) {
        const [opens] = rule.byWeekday[date.weekday];
        const instant = date.set({ hour: Math.floor(opens / 60), minute: opens % 60 }).toMillis();
        if (instant > at.getTime()) candidates.add(instant);
      }
    }
  }
  for (const instant of [...candidates].sort((a, b) => a - b)) {
    const date = new Date(instant);
    if (withinSendingHours(date, region)) return date;
  }
  return null;
}
