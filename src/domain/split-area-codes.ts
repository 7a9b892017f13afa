// US area codes whose territory spans more than one time zone. Google's libphonenumber data gives
// one zone for most of them (850: Central only; 812, 219, 574: Eastern only…), so a number known
// only by its digits gets every zone its area code spans, and every one of them must allow a send.
// Overlays share their parent's territory and zones.
//
// Sources: the legal time zone boundaries (49 CFR Part 71, §§ 71.4–71.9), the tz database's zone
// comments (zone1970.tab: America/Indiana/Tell_City "Central - IN (Perry)", America/Indiana/Knox
// "Central - IN (Starke)", America/Kentucky/Monticello, America/Menominee "Central - MI (Wisconsin
// border)", America/Boise "Mountain - ID (south); OR (east)", America/North_Dakota/*, America/Adak),
// and NANPA's area code maps for each state.

export interface SplitAreaCode {
  areaCodes: readonly string[];
  zones: readonly string[];
  where: string;
  source: string;
}

const EASTERN = "America/New_York";
const CENTRAL = "America/Chicago";
const MOUNTAIN = "America/Denver";
const PACIFIC = "America/Los_Angeles";
const CFR_71 = "https://www.ecfr.gov/current/title-49/subtitle-A/part-71";
const NANPA_MAPS = "https://www.nationalnanpa.com/area_code_maps/ac_map_static.html";
const TZDB = "https://data.iana.org/time-zones/tzdb/zone1970.tab";

export const SPLIT_AREA_CODES: readonly SplitAreaCode[] = [
  {
    areaCodes: ["850", "448"],
    zones: [EASTERN, CENTRAL],
    where:
      "Florida panhandle: Central west of the Apalachicola River (Pensacola, Panama City), Eastern around Tallahassee",
    source: `49 CFR 71.5 (Central zone in Florida); ${NANPA_MAPS}`,
  },
  {
    areaCodes: ["812", "930"],
    zones: [EASTERN, CENTRAL],
    where:
      "southern Indiana: Central in the southwest (Evansville: Vanderburgh, Posey, Gibson, Warrick, Spencer, Perry), Eastern elsewhere",
    source: `49 CFR 71.5; tz America/Indiana/Tell_City "Central - IN (Perry)"; ${TZDB}`,
  },
  {
    areaCodes: ["219"],
    zones: [CENTRAL, EASTERN],
    where:
      "northwest Indiana: Central in the Chicago-area counties (Lake, Porter, LaPorte, Jasper, Newton), Eastern in its exchanges beyond them",
    source: `49 CFR 71.5; ${NANPA_MAPS}`,
  },
  {
    areaCodes: ["574"],
    zones: [EASTERN, CENTRAL],
    where: "north-central Indiana: Eastern (South Bend, Elkhart), Central in Starke County",
    source: `tz America/Indiana/Knox "Central - IN (Starke)"; ${TZDB}`,
  },
  {
    areaCodes: ["270", "364"],
    zones: [CENTRAL, EASTERN],
    where:
      "western Kentucky: Central, with Eastern counties along its eastern edge (Hardin, Meade, LaRue)",
    source: `49 CFR 71.5 (Central zone in Kentucky); ${NANPA_MAPS}`,
  },
  {
    areaCodes: ["606"],
    zones: [EASTERN, CENTRAL],
    where: "eastern Kentucky: Eastern, with Central counties in the southwest (Clinton)",
    source: `49 CFR 71.5; tz America/Kentucky/Monticello (Wayne County moved to Eastern in 2000); ${TZDB}`,
  },
  {
    areaCodes: ["423"],
    zones: [EASTERN, CENTRAL],
    where:
      "east Tennessee: Eastern (Chattanooga), Central in the Sequatchie Valley counties (Marion, Sequatchie, Bledsoe)",
    source: `49 CFR 71.5 (Central zone in Tennessee); ${NANPA_MAPS}`,
  },
  {
    areaCodes: ["906"],
    zones: [EASTERN, CENTRAL],
    where:
      "Michigan's Upper Peninsula: Eastern, Central in the counties bordering Wisconsin (Gogebic, Iron, Dickinson, Menominee)",
    source: `tz America/Menominee "Central - MI (Wisconsin border)"; ${TZDB}`,
  },
  {
    areaCodes: ["334"],
    zones: [CENTRAL, EASTERN],
    where:
      "southeast Alabama: Central; Phenix City and Lee County keep Eastern time (Columbus, Georgia)",
    source: `49 CFR 71.5 (Central zone in Alabama); Phenix City's Eastern time is de facto, not legal; ${NANPA_MAPS}`,
  },
  {
    areaCodes: ["605"],
    zones: [CENTRAL, MOUNTAIN],
    where: "South Dakota: Central in the east, Mountain west of the Missouri River",
    source: `49 CFR 71.7 (Mountain zone in South Dakota); ${CFR_71}`,
  },
  {
    areaCodes: ["701"],
    zones: [CENTRAL, MOUNTAIN],
    where: "North Dakota: Central, Mountain in the southwest",
    source: `49 CFR 71.7; tz America/North_Dakota/Center, New_Salem, Beulah; ${TZDB}`,
  },
  {
    areaCodes: ["308"],
    zones: [CENTRAL, MOUNTAIN],
    where: "western Nebraska: Central around Kearney and North Platte, Mountain in the Panhandle",
    source: `49 CFR 71.7 (Mountain zone in Nebraska); ${CFR_71}`,
  },
  {
    areaCodes: ["620"],
    zones: [CENTRAL, MOUNTAIN],
    where: "southern Kansas: Central, Mountain in Hamilton and Greeley counties",
    source: `49 CFR 71.7 (Mountain zone in Kansas); ${CFR_71}`,
  },
  {
    areaCodes: ["785"],
    zones: [CENTRAL, MOUNTAIN],
    where: "northern Kansas: Central, Mountain in Sherman and Wallace counties",
    source: `49 CFR 71.7 (Mountain zone in Kansas); ${CFR_71}`,
  },
  {
    areaCodes: ["915"],
    zones: [MOUNTAIN, CENTRAL],
    where:
      "far west Texas: Mountain (El Paso, Hudspeth); exchanges near the Central-time counties east of them",
    source: `49 CFR 71.8 (Mountain zone in Texas: El Paso and Hudspeth counties); ${CFR_71}`,
  },
  {
    areaCodes: ["432"],
    zones: [CENTRAL, MOUNTAIN],
    where: "west Texas: Central; Culberson County (Van Horn) keeps Mountain time",
    source: `49 CFR 71.5 / 71.8; Culberson County's Mountain time is de facto; ${CFR_71}`,
  },
  {
    areaCodes: ["208", "986"],
    zones: [MOUNTAIN, PACIFIC],
    where: "Idaho: Mountain in the south, Pacific in the panhandle north of the Salmon River",
    source: `tz America/Boise "Mountain - ID (south); OR (east)"; 49 CFR 71.9; ${TZDB}`,
  },
  {
    areaCodes: ["541", "458"],
    zones: [PACIFIC, MOUNTAIN],
    where: "Oregon outside the Portland area: Pacific, Mountain in most of Malheur County",
    source: `tz America/Boise "Mountain - ID (south); OR (east)"; ${TZDB}`,
  },
  {
    areaCodes: ["775"],
    zones: [PACIFIC, MOUNTAIN],
    where: "northern Nevada: Pacific; West Wendover and Jackpot keep Mountain time",
    source: `49 CFR 71.9 (Pacific zone in Nevada); the border towns' Mountain time is de facto; ${CFR_71}`,
  },
  {
    areaCodes: ["928"],
    zones: ["America/Phoenix", MOUNTAIN],
    where:
      "northern and western Arizona: MST without daylight saving, but the Navajo Nation observes it",
    source: `tz America/Phoenix "MST - AZ (except Navajo)", America/Denver; ${TZDB}`,
  },
  {
    areaCodes: ["907"],
    zones: ["America/Anchorage", "America/Adak"],
    where: "Alaska: Alaska time, Hawaii-Aleutian time west of 169°30′ W",
    source: `tz America/Adak "Alaska - western Aleutians"; ${TZDB}`,
  },
];
