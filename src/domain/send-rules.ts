// The send rules as data: the hours in which a marketing text may reach a recipient, federal and
// per state, each row with the law it comes from and the day it took effect. quiet-hours.ts reads
// this table and nothing else; a state is encoded only with a primary source (docs/COMPLIANCE.md,
// "Send rules", lists the states checked and left out).
//
// How a row is read:
// - `windows`: on each ISO weekday (1 Monday … 7 Sunday) a send may start at `opens` and before
//   `closes`, recipient-local time (HH:MM, 24 h). Every weekday appears in exactly one window.
// - `effectiveFrom`: the first recipient-local calendar day the rule governs; a send decided for an
//   instant that is still the day before, in the recipient's zone, is not subject to it.
// - `jurisdiction`: "US" applies to every recipient; a state code applies to the recipients
//   placed in that state: a stored state of residence, else the state of the number's area code.
// - `areaCodePresumption`: the statute presumes that a number with one of these area codes belongs
//   to a resident, so the rule applies to such a number even when another state of residence is
//   stored (a residence elsewhere is for a court to find, not for the sender's database).

export interface SendingWindow {
  days: readonly number[];
  opens: string;
  closes: string;
}

export interface RuleSource {
  citation: string;
  url: string;
}

export interface QuietHoursRule {
  jurisdiction: string;
  name: string;
  windows: readonly SendingWindow[];
  effectiveFrom: string;
  source: RuleSource;
  areaCodePresumption?: { areaCodes: readonly string[]; source: RuleSource };
  note?: string;
}

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

export const QUIET_HOURS_RULES: readonly QuietHoursRule[] = [
  {
    jurisdiction: "US",
    name: "TCPA calling-time restriction",
    windows: [{ days: EVERY_DAY, opens: "08:00", closes: "21:00" }],
    effectiveFrom: "1992-12-20",
    source: {
      citation: "47 CFR 64.1200(c)(1) (FCC 92-443, TCPA rules in force 1992-12-20)",
      url: "https://www.ecfr.gov/current/title-47/chapter-I/subchapter-B/part-64/subpart-L/section-64.1200",
    },
  },
  {
    jurisdiction: "FL",
    name: "Florida Telemarketing Act",
    windows: [{ days: EVERY_DAY, opens: "08:00", closes: "20:00" }],
    effectiveFrom: "2021-07-01",
    source: {
      citation:
        "Fla. Stat. 501.616(6)(a), as amended by Laws of Fla. 2021-158 (CS/SB 1120), in force 2021-07-01",
      url: "https://www.flsenate.gov/Laws/Statutes/2024/501.616",
    },
    note: "Until 2021-06-30 the Florida limit was 21:00, the federal one.",
  },
  {
    jurisdiction: "OK",
    name: "Oklahoma Telephone Solicitation Act of 2022",
    windows: [{ days: EVERY_DAY, opens: "08:00", closes: "20:00" }],
    effectiveFrom: "2022-11-01",
    source: {
      citation: "Okla. Stat. tit. 15, § 775C.4 (HB 3168, 2022), in force 2022-11-01",
      url: "http://www.oklegislature.gov/BillInfo.aspx?Bill=HB3168&Session=2200",
    },
  },
  {
    jurisdiction: "MD",
    name: "Maryland Stop the Spam Calls Act of 2023",
    windows: [{ days: EVERY_DAY, opens: "08:00", closes: "20:00" }],
    effectiveFrom: "2024-01-01",
    source: {
      citation: "Md. Code, Com. Law § 14-4503 (SB 90 / HB 37, 2023), in force 2024-01-01",
      url: "https://mgaleg.maryland.gov/mgawebsite/Legislation/Details/sb0090?ys=2023RS",
    },
  },
  {
    jurisdiction: "CT",
    name: "Connecticut telephone solicitation hours",
    windows: [{ days: EVERY_DAY, opens: "09:00", closes: "20:00" }],
    effectiveFrom: "2023-10-01",
    source: {
      citation:
        "Conn. Gen. Stat. § 42-288a, as amended by Public Act 23-98 (SB 1058), in force 2023-10-01",
      url: "https://www.cga.ct.gov/2023/ACT/PA/PDF/2023PA-00098-R00SB-01058-PA.PDF",
    },
    areaCodePresumption: {
      areaCodes: ["203", "475", "860", "959"],
      source: {
        citation:
          "Public Act 23-98 § 1 (Conn. Gen. Stat. § 42-288a): a call or text to a Connecticut area code is presumed made to a Connecticut resident",
        url: "https://www.cga.ct.gov/2023/ACT/PA/PDF/2023PA-00098-R00SB-01058-PA.PDF",
      },
    },
  },
  {
    jurisdiction: "WA",
    name: "Washington telephone solicitation",
    windows: [{ days: EVERY_DAY, opens: "08:00", closes: "20:00" }],
    effectiveFrom: "1987-07-26",
    source: {
      citation:
        "RCW 80.36.390 (no solicitation between 8:00 p.m. and 8:00 a.m.), in force at the latest since Laws of 1987 c 229 § 13",
      url: "https://app.leg.wa.gov/RCW/default.aspx?cite=80.36.390",
    },
    note: "The date is a floor: optgraph decides no instant before 2000, so it never changes a decision.",
  },
  {
    jurisdiction: "TX",
    name: "Texas telephone solicitation hours, extended to texts",
    windows: [
      { days: [1, 2, 3, 4, 5, 6], opens: "09:00", closes: "21:00" },
      { days: [7], opens: "12:00", closes: "21:00" },
    ],
    effectiveFrom: "2025-09-01",
    source: {
      citation:
        "Tex. Bus. & Com. Code § 301.051, applied to text messages by SB 140 (89th Leg., 2025; Chapter 302 amendments), in force 2025-09-01",
      url: "https://capitol.texas.gov/BillLookup/History.aspx?LegSess=89R&Bill=SB140",
    },
  },
];
