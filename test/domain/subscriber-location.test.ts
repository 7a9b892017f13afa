// The readers of where a subscriber is: IANA zones, US state codes and BCP 47 tags, each accepted
// in its canonical form or refused with BAD_USER_INPUT naming the field; and a change read from an
// input (absent leaves a value, null clears it).
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import {
  readLocale,
  readLocationChange,
  readTimeZone,
} from "../../src/domain/subscriber-location.ts";
import { readUsState, stateOfPlace } from "../../src/domain/us-states.ts";

function refusal(read: () => unknown): DomainError {
  try {
    read();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("time zones", () => {
  it.each([
    ["America/New_York", "America/New_York"],
    [" america/chicago ", "America/Chicago"],
    ["US/Eastern", "America/New_York"],
    ["UTC", "UTC"],
    ["America/Indiana/Tell_City", "America/Indiana/Tell_City"],
  ])("accepts %j as %s", (input, canonical) => {
    expect(readTimeZone(input, "f")).toBe(canonical);
  });

  it.each(["", "Mars/Phobos", "+05:00", "UTC+5", "GMT-0500", "America/New York", "x".repeat(70)])(
    "refuses %j",
    (input) => {
      const error = refusal(() => readTimeZone(input, "input.timeZone"));
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "input.timeZone" });
      expect(error.message).toMatch(/^input\.timeZone: .* is not an IANA time zone/);
    },
  );
});

describe("states", () => {
  it.each([
    ["CT", "CT"],
    [" fl ", "FL"],
    ["dc", "DC"],
    ["PR", "PR"],
  ])("accepts %j as %s", (input, code) => {
    expect(readUsState(input, "f")).toBe(code);
  });

  it.each(["", "ZZ", "Connecticut", "C", "CTT", "XX"])("refuses %j", (input) => {
    expect(refusal(() => readUsState(input, "state"))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "state",
    });
  });

  it.each([
    ["Florida", "FL"],
    ["Washington State", "WA"],
    ["Washington D.C.", "DC"],
    ["North Haven, CT", "CT"],
    ["Somewhere, ZZ", null],
    ["Ontario", null],
  ])("reads the geocoded place %j as %s", (place, code) => {
    expect(stateOfPlace(place)).toBe(code);
  });
});

describe("locales", () => {
  it.each([
    ["en", "en"],
    ["EN-us", "en-US"],
    ["es-419", "es-419"],
    ["zh-hant-tw", "zh-Hant-TW"],
  ])("accepts %j as %s", (input, canonical) => {
    expect(readLocale(input, "f")).toBe(canonical);
  });

  it.each(["", "en_US", "123", "xx-yyyyyyyyyyyyy", "e"])("refuses %j", (input) => {
    expect(refusal(() => readLocale(input, "input.locale"))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.locale",
    });
  });
});

describe("a change", () => {
  it("leaves absent fields out, keeps null as a clear, and names fields with the prefix", () => {
    expect(readLocationChange({ state: "ct", locale: null }, "input.")).toEqual({
      state: "CT",
      locale: null,
    });
    expect(readLocationChange({}, "input.")).toEqual({});
    expect(refusal(() => readLocationChange({ timeZone: "Nowhere" }, "input."))).toMatchObject({
      field: "input.timeZone",
    });
  });
});
