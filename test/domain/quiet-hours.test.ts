// Quiet hours at the boundary minutes of each rule, across DST changes, with several candidate
// zones, and the regions the number data gives for numbers in the states with rules of their own.
import { describe, expect, it } from "vitest";
import { regionOfNumber, recipientRegion } from "../../src/domain/number-region.ts";
import {
  nextSendingInstant,
  withinSendingHours,
  type RecipientRegion,
} from "../../src/domain/quiet-hours.ts";

const LA: RecipientRegion = { zones: ["America/Los_Angeles"], states: [] };
const FL: RecipientRegion = { zones: ["America/New_York"], states: ["FL"] };
const OK: RecipientRegion = { zones: ["America/Chicago"], states: ["OK"] };
const TX: RecipientRegion = { zones: ["America/Chicago"], states: ["TX"] };

const at = (iso: string) => new Date(iso);
const next = (iso: string, region: RecipientRegion) =>
  nextSendingInstant(at(iso), region)?.toISOString();

describe("quiet hours", () => {
  // 2026-11-27 is a Friday; Los Angeles is UTC-8, New York UTC-5, Chicago UTC-6 after Nov 1.
  it.each([
    ["federal 07:59 local", "2026-11-27T15:59:00Z", LA, false, "2026-11-27T16:00:00.000Z"],
    ["federal 08:00 local", "2026-11-27T16:00:00Z", LA, true, "2026-11-27T16:00:00.000Z"],
    ["federal 20:59 local", "2026-11-28T04:59:00Z", LA, true, "2026-11-28T04:59:00.000Z"],
    ["federal 21:00 local", "2026-11-28T05:00:00Z", LA, false, "2026-11-28T16:00:00.000Z"],
    ["Florida 07:59", "2026-11-27T12:59:00Z", FL, false, "2026-11-27T13:00:00.000Z"],
    ["Florida 08:00", "2026-11-27T13:00:00Z", FL, true, "2026-11-27T13:00:00.000Z"],
    ["Florida 19:59", "2026-11-28T00:59:00Z", FL, true, "2026-11-28T00:59:00.000Z"],
    ["Florida 20:00", "2026-11-28T01:00:00Z", FL, false, "2026-11-28T13:00:00.000Z"],
    ["Oklahoma 19:59", "2026-11-28T01:59:00Z", OK, true, "2026-11-28T01:59:00.000Z"],
    ["Oklahoma 20:00", "2026-11-28T02:00:00Z", OK, false, "2026-11-28T14:00:00.000Z"],
    ["Texas Friday 08:59", "2026-11-27T14:59:00Z", TX, false, "2026-11-27T15:00:00.000Z"],
    ["Texas Friday 09:00", "2026-11-27T15:00:00Z", TX, true, "2026-11-27T15:00:00.000Z"],
    ["Texas Saturday 20:59", "2026-11-29T02:59:00Z", TX, true, "2026-11-29T02:59:00.000Z"],
    [
      "Texas Saturday 21:00 → Sunday noon",
      "2026-11-29T03:00:00Z",
      TX,
      false,
      "2026-11-29T18:00:00.000Z",
    ],
    ["Texas Sunday 09:30", "2026-11-29T15:30:00Z", TX, false, "2026-11-29T18:00:00.000Z"],
    ["Texas Sunday 11:59", "2026-11-29T17:59:00Z", TX, false, "2026-11-29T18:00:00.000Z"],
    ["Texas Sunday 12:00", "2026-11-29T18:00:00Z", TX, true, "2026-11-29T18:00:00.000Z"],
    ["Texas Sunday 20:59", "2026-11-30T02:59:00Z", TX, true, "2026-11-30T02:59:00.000Z"],
    [
      "Texas Sunday 21:00 → Monday 09:00",
      "2026-11-30T03:00:00Z",
      TX,
      false,
      "2026-11-30T15:00:00.000Z",
    ],
  ])("%s", (_name, instant, region, allowed, nextAllowed) => {
    expect(withinSendingHours(at(instant), region)).toBe(allowed);
    expect(next(instant, region)).toBe(nextAllowed);
  });

  it("opens at 08:00 local on the day DST starts (spring forward: UTC-8 → UTC-7)", () => {
    // 2026-03-07 21:30 PST; the next morning is already PDT.
    expect(next("2026-03-08T05:30:00Z", LA)).toBe("2026-03-08T15:00:00.000Z");
    expect(withinSendingHours(at("2026-03-08T14:59:00Z"), LA)).toBe(false);
    expect(withinSendingHours(at("2026-03-08T15:00:00Z"), LA)).toBe(true);
    // 20:59 PDT is allowed, 21:00 PDT is not
    expect(withinSendingHours(at("2026-03-09T03:59:00Z"), LA)).toBe(true);
    expect(withinSendingHours(at("2026-03-09T04:00:00Z"), LA)).toBe(false);
  });

  it("opens at 08:00 local on the day DST ends (fall back: UTC-7 → UTC-8)", () => {
    // 2026-10-31 21:30 PDT; 08:00 the next day is PST.
    expect(next("2026-11-01T04:30:00Z", LA)).toBe("2026-11-01T16:00:00.000Z");
    expect(withinSendingHours(at("2026-11-01T15:59:00Z"), LA)).toBe(false);
    expect(withinSendingHours(at("2026-11-01T16:00:00Z"), LA)).toBe(true);
  });

  it("needs every candidate zone to be open, and waits for the last one to open", () => {
    const both: RecipientRegion = {
      zones: ["America/New_York", "America/Los_Angeles"],
      states: [],
    };
    expect(withinSendingHours(at("2026-11-27T17:00:00Z"), both)).toBe(true); // 12:00 ET, 09:00 PT
    expect(withinSendingHours(at("2026-11-27T15:30:00Z"), both)).toBe(false); // 10:30 ET, 07:30 PT
    expect(next("2026-11-28T04:30:00Z", both)).toBe("2026-11-28T16:00:00.000Z"); // 23:30 ET → 08:00 PT
  });

  it("applies every state rule together when the state is unknown", () => {
    const unknown: RecipientRegion = { zones: ["America/Chicago"], states: ["FL", "OK", "TX"] };
    expect(withinSendingHours(at("2026-11-29T17:00:00Z"), unknown)).toBe(false); // Sunday 11:00: Texas
    expect(withinSendingHours(at("2026-11-28T02:30:00Z"), unknown)).toBe(false); // Friday 20:30: Florida
    expect(next("2026-11-28T02:30:00Z", unknown)).toBe("2026-11-28T15:00:00.000Z"); // Saturday 09:00: Texas
  });
});

describe("the remembered answers", () => {
  it("answer a repeated question alike, and a caller changing its Date changes nothing", () => {
    const first = nextSendingInstant(at("2026-03-04T14:00:00Z"), LA)!;
    expect(first.toISOString()).toBe("2026-03-04T16:00:00.000Z");
    first.setTime(0);
    expect(next("2026-03-04T14:00:00Z", LA)).toBe("2026-03-04T16:00:00.000Z");
    // the same instant for another region is another question
    expect(next("2026-03-04T14:00:00Z", FL)).toBe("2026-03-04T14:00:00.000Z");
  });
});

describe("recipient regions from the number", () => {
  it.each([
    ["+13055550100", ["FL"], "America/New_York"],
    ["+14055550100", ["OK"], "America/Chicago"],
    ["+12145550100", ["TX"], "America/Chicago"],
    ["+14155550100", [], "America/Los_Angeles"],
  ])("%s", async (phone, states, zone) => {
    const region = await regionOfNumber(phone);
    expect(region.states).toEqual(states);
    expect(region.zones).toContain(zone);
  });

  it("gives a toll-free number every state rule and many zones", async () => {
    const region = await regionOfNumber("+18005550100");
    expect(region.states).toEqual(["FL", "OK", "MD", "CT", "WA", "TX"]);
    expect(region.zones.length).toBeGreaterThan(3);
  });

  it("lets a subscriber's stored zone replace the number's, keeping the number's state", async () => {
    const region = await recipientRegion("+13055550100", {
      timeZone: "America/Los_Angeles",
      state: null,
    });
    expect(region).toEqual({ zones: ["America/Los_Angeles"], states: ["FL"] });
  });
});
