// Unit tests of phone numbers and sender addresses: what people type becomes E.164 (or short-code
// digits), and everything else is BAD_USER_INPUT naming the field.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import {
  normalizePhone,
  normalizeSenderAddress,
  phoneCountry,
  type SenderKind,
} from "../../src/domain/phone.ts";

function thrown(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error("expected a DomainError, nothing was thrown");
}

describe("normalizePhone", () => {
  it.each([
    ["(415) 555-0100", "US", "+14155550100"],
    ["415.555.0100", "US", "+14155550100"],
    ["415-555-0100", "US", "+14155550100"],
    ["415 555 0100", "US", "+14155550100"],
    ["4155550100", "US", "+14155550100"],
    ["+1 415 555 0100", "US", "+14155550100"],
    ["+1 (415) 555-0100", "US", "+14155550100"],
    ["1-415-555-0100", "US", "+14155550100"],
    ["14155550100", "US", "+14155550100"],
    ["  +14155550100  ", "US", "+14155550100"],
    // with a + prefix the default region does not matter
    ["+1 415 555 0100", "GB", "+14155550100"],
    ["+44 7911 123456", "US", "+447911123456"],
    ["+33 6 12 34 56 78", "US", "+33612345678"],
    ["+49 1512 3456789", "US", "+4915123456789"],
    // without one, the default region decides
    ["07911 123456", "GB", "+447911123456"],
    ["06 12 34 56 78", "FR", "+33612345678"],
  ])("%j in %s → %s", (input, region, expected) => {
    expect(normalizePhone(input, region)).toBe(expected);
  });

  it.each([
    ["", /required/],
    ["   ", /required/],
    ["hello", /not a (valid )?phone number/],
    ["123", /not a (valid )?phone number/],
    ["555-0100", /not a (valid )?phone number/],
    ["+1 415 555", /not a (valid )?phone number/],
    ["+1 415 555 01000", /not a (valid )?phone number/],
    ["(200) 555-0100", /not a (valid )?phone number/],
    ["+999 123 4567", /not a (valid )?phone number/],
    ["07911 123456", /not a (valid )?phone number/], // a UK number read as US
    ["1".repeat(41), /too long/],
  ])("refuses %j", (input, message) => {
    const error = thrown(() => normalizePhone(input, "US", "input.phone"));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe("input.phone");
    expect(error.message.startsWith("input.phone: ")).toBe(true);
    expect(error.message).toMatch(message);
  });

  it("names the field 'phone' by default", () => {
    expect(thrown(() => normalizePhone("nope", "US")).field).toBe("phone");
  });
});

describe("phoneCountry", () => {
  it.each([
    ["+14155550100", "US"],
    ["+442079460958", "GB"],
    ["+33612345678", "FR"],
    ["garbage", undefined],
  ])("%s → %s", (input, country) => {
    expect(phoneCountry(input)).toBe(country);
  });
});

describe("normalizeSenderAddress", () => {
  it.each<[string, SenderKind, string]>([
    ["12345", "SHORT_CODE", "12345"],
    [" 123 ", "SHORT_CODE", "123"],
    ["12345678", "SHORT_CODE", "12345678"],
    ["(415) 555-0100", "LONG_CODE", "+14155550100"],
    ["+1 415 555 0100", "LONG_CODE", "+14155550100"],
    ["+44 7911 123456", "LONG_CODE", "+447911123456"],
    ["+1 (800) 555-0100", "TOLL_FREE", "+18005550100"],
    ["1-888-555-0123", "TOLL_FREE", "+18885550123"],
    ["877.555.0123", "TOLL_FREE", "+18775550123"],
  ])("%j as %s → %s", (input, kind, expected) => {
    expect(normalizeSenderAddress(input, kind, "US")).toBe(expected);
  });

  it.each<[string, SenderKind, RegExp]>([
    ["12AB", "SHORT_CODE", /short code is 3 to 8 digits/],
    ["12", "SHORT_CODE", /short code is 3 to 8 digits/],
    ["123456789", "SHORT_CODE", /short code is 3 to 8 digits/],
    ["+12345", "SHORT_CODE", /short code is 3 to 8 digits/],
    ["123 45", "SHORT_CODE", /short code is 3 to 8 digits/],
    ["", "SHORT_CODE", /short code/],
    ["hello", "LONG_CODE", /not a (valid )?phone number/],
    ["", "LONG_CODE", /required/],
    ["12345", "LONG_CODE", /not a (valid )?phone number/],
    ["+1 800 555 0100", "LONG_CODE", /toll-free number: use kind TOLL_FREE/],
    ["(888) 555-0123", "LONG_CODE", /toll-free number: use kind TOLL_FREE/],
    ["+1 415 555 0100", "TOLL_FREE", /is not a toll-free number/],
    ["+44 7911 123456", "TOLL_FREE", /is not a toll-free number/],
    ["hello", "TOLL_FREE", /not a (valid )?phone number/],
  ])("refuses %j as %s", (input, kind, message) => {
    const error = thrown(() => normalizeSenderAddress(input, kind, "US"));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe("input.address");
    expect(error.message.startsWith("input.address: ")).toBe(true);
    expect(error.message).toMatch(message);
  });
});
