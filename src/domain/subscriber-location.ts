// Where a subscriber is, as clients give it (updateSubscriber, import columns): an IANA time zone,
// a US state of residence and a BCP 47 locale, each checked and written in its canonical form.
// Quiet hours read the zone and the state (number-region.ts); replies read the locale.
import { badInput } from "./errors.ts";
import { readUsState } from "./us-states.ts";

const quoted = (value: string) =>
  JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

/** IANA names only ("America/New_York", "UTC"): not offsets or abbreviations such as "EST+5". */
const ZONE_NAME = /^(?:[A-Za-z][A-Za-z0-9_+-]*)(?:\/[A-Za-z0-9][A-Za-z0-9_+-]*){0,2}$/;

/** An IANA time zone, as the tz database spells it ("america/new_york" → "America/New_York"). */
export function readTimeZone(value: string, field: string): string {
  const text = value.trim();
  const problem = `${quoted(value)} is not an IANA time zone (such as America/New_York)`;
  if (!ZONE_NAME.test(text) || text.length > 64) throw badInput(field, problem);
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: text }).resolvedOptions().timeZone;
  } catch {
    throw badInput(field, problem);
  }
}

/** A BCP 47 language tag, canonicalized ("EN-us" → "en-US"). */
export function readLocale(value: string, field: string): string {
  const text = value.trim();
  const problem = `${quoted(value)} is not a BCP 47 language tag (such as en-US or es)`;
  if (text === "" || text.length > 35) throw badInput(field, problem);
  try {
    const [canonical] = Intl.getCanonicalLocales(text);
    if (!canonical) throw badInput(field, problem);
    return canonical;
  } catch {
    throw badInput(field, problem);
  }
}

/** A change of location: a value sets it, null clears it, absent (undefined) leaves it. */
export interface LocationChange {
  timezone?: string | null;
  state?: string | null;
  locale?: string | null;
}

/** Checks a change as given; the fields are named by `prefix` + the client's name for each. */
export function readLocationChange(
  input: { timeZone?: string | null; state?: string | null; locale?: string | null },
  prefix: string,
): LocationChange {
  const change: LocationChange = {};
  if (input.timeZone !== undefined) {
    change.timezone =
      input.timeZone === null ? null : readTimeZone(input.timeZone, `${prefix}timeZone`);
  }
  if (input.state !== undefined) {
    change.state = input.state === null ? null : readUsState(input.state, `${prefix}state`);
  }
  if (input.locale !== undefined) {
    change.locale = input.locale === null ? null : readLocale(input.locale, `${prefix}locale`);
  }
  return change;
}
