// The US states, the District of Columbia and the inhabited territories: their two-letter USPS
// codes (what `Subscriber.state` holds), their names as Google's geocoding data writes them, and
// the time zones each spans (the candidates when a subscriber's state is stored but not their
// zone). Zones follow the tz database's zone1970.tab; states split between two zones list both.
import { badInput } from "./errors.ts";

interface UsState {
  name: string;
  zones: readonly string[];
}

const EASTERN = "America/New_York";
const CENTRAL = "America/Chicago";
const MOUNTAIN = "America/Denver";
const ARIZONA = "America/Phoenix";
const PACIFIC = "America/Los_Angeles";

export const US_STATES: Readonly<Record<string, UsState>> = {
  AL: { name: "Alabama", zones: [CENTRAL] },
  AK: { name: "Alaska", zones: ["America/Anchorage", "America/Adak"] },
  AZ: { name: "Arizona", zones: [ARIZONA, MOUNTAIN] }, // the Navajo Nation observes DST
  AR: { name: "Arkansas", zones: [CENTRAL] },
  CA: { name: "California", zones: [PACIFIC] },
  CO: { name: "Colorado", zones: [MOUNTAIN] },
  CT: { name: "Connecticut", zones: [EASTERN] },
  DE: { name: "Delaware", zones: [EASTERN] },
  DC: { name: "Washington D.C.", zones: [EASTERN] },
  FL: { name: "Florida", zones: [EASTERN, CENTRAL] },
  GA: { name: "Georgia", zones: [EASTERN] },
  HI: { name: "Hawaii", zones: ["Pacific/Honolulu"] },
  ID: { name: "Idaho", zones: [MOUNTAIN, PACIFIC] },
  IL: { name: "Illinois", zones: [CENTRAL] },
  IN: { name: "Indiana", zones: [EASTERN, CENTRAL] },
  IA: { name: "Iowa", zones: [CENTRAL] },
  KS: { name: "Kansas", zones: [CENTRAL, MOUNTAIN] },
  KY: { name: "Kentucky", zones: [EASTERN, CENTRAL] },
  LA: { name: "Louisiana", zones: [CENTRAL] },
  ME: { name: "Maine", zones: [EASTERN] },
  MD: { name: "Maryland", zones: [EASTERN] },
  MA: { name: "Massachusetts", zones: [EASTERN] },
  MI: { name: "Michigan", zones: [EASTERN, CENTRAL] },
  MN: { name: "Minnesota", zones: [CENTRAL] },
  MS: { name: "Mississippi", zones: [CENTRAL] },
  MO: { name: "Missouri", zones: [CENTRAL] },
  MT: { name: "Montana", zones: [MOUNTAIN] },
  NE: { name: "Nebraska", zones: [CENTRAL, MOUNTAIN] },
  NV: { name: "Nevada", zones: [PACIFIC, MOUNTAIN] }, // West Wendover keeps Mountain time
  NH: { name: "New Hampshire", zones: [EASTERN] },
  NJ: { name: "New Jersey", zones: [EASTERN] },
  NM: { name: "New Mexico", zones: [MOUNTAIN] },
  NY: { name: "New York", zones: [EASTERN] },
  NC: { name: "North Carolina", zones: [EASTERN] },
  ND: { name: "North Dakota", zones: [CENTRAL, MOUNTAIN] },
  OH: { name: "Ohio", zones: [EASTERN] },
  OK: { name: "Oklahoma", zones: [CENTRAL] },
  OR: { name: "Oregon", zones: [PACIFIC, MOUNTAIN] },
  PA: { name: "Pennsylvania", zones: [EASTERN] },
  RI: { name: "Rhode Island", zones: [EASTERN] },
  SC: { name: "South Carolina", zones: [EASTERN] },
  SD: { name: "South Dakota", zones: [CENTRAL, MOUNTAIN] },
  TN: { name: "Tennessee", zones: [EASTERN, CENTRAL] },
  TX: { name: "Texas", zones: [CENTRAL, MOUNTAIN] },
  UT: { name: "Utah", zones: [MOUNTAIN] },
  VT: { name: "Vermont", zones: [EASTERN] },
  VA: { name: "Virginia", zones: [EASTERN] },
  WA: { name: "Washington State", zones: [PACIFIC] },
  WV: { name: "West Virginia", zones: [EASTERN] },
  WI: { name: "Wisconsin", zones: [CENTRAL] },
  WY: { name: "Wyoming", zones: [MOUNTAIN] },
  AS: { name: "American Samoa", zones: ["Pacific/Pago_Pago"] },
  GU: { name: "Guam", zones: ["Pacific/Guam"] },
  MP: { name: "Northern Mariana Islands", zones: ["Pacific/Saipan"] },
  PR: { name: "Puerto Rico", zones: ["America/Puerto_Rico"] },
  VI: { name: "U.S. Virgin Islands", zones: ["America/St_Thomas"] },
};

const BY_NAME = new Map(Object.entries(US_STATES).map(([code, state]) => [state.name, code]));

/** The state a geocoded place names ("Florida", "Tampa, FL"), or null when it names none. */
export function stateOfPlace(place: string): string | null {
  const named = BY_NAME.get(place);
  if (named) return named;
  const code = /, ([A-Z]{2})$/.exec(place)?.[1];
  return code && code in US_STATES ? code : null;
}

/** A state code as a client writes it (any case, spaces around), checked. */
export function readUsState(value: string, field: string): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code) || !(code in US_STATES)) {
    throw badInput(
      field,
      `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} is not a two-letter US state code (such as CT, FL or DC)`,
    );
  }
  return code;
}
