// Phone numbers and sender addresses: anything a person types becomes E.164 (or the digits of a
// short code), using libphonenumber-js and its full metadata so number types are known.
import { parsePhoneNumberWithError, type CountryCode } from "libphonenumber-js/max";
import { badInput } from "./errors.ts";

export type SenderKind = "SHORT_CODE" | "LONG_CODE" | "TOLL_FREE";

/** E.164 form of a subscriber's number; throws BAD_USER_INPUT naming `field` when it is not one. */
export function normalizePhone(input: string, defaultRegion: string, field = "phone"): string {
  const raw = input.trim();
  if (raw === "") throw badInput(field, "a phone number is required");
  if (raw.length > 40) throw badInput(field, "is too long to be a phone number");
  // Validation against the full metadata is the costly part of a batch (canSendMany, imports),
  // and senders ask about the same numbers again and again: valid answers are remembered.
  const key = `${defaultRegion}|${raw}`;
  const known = validNumbers.get(key);
  if (known !== undefined) return known;
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(raw, defaultRegion as CountryCode);
  } catch {
    throw badInput(field, `"${raw}" is not a phone number`);
  }
  if (!parsed.isValid()) throw badInput(field, `"${raw}" is not a valid phone number`);
  if (validNumbers.size >= VALID_NUMBERS_SIZE) validNumbers.clear();
  validNumbers.set(key, parsed.number);
  return parsed.number;
}

const VALID_NUMBERS_SIZE = 50_000;
const validNumbers = new Map<string, string>();

/** The country and the region-level detail (US/CA area code) of an E.164 number, when known. */
export function phoneCountry(e164: string): string | undefined {
  try {
    return parsePhoneNumberWithError(e164).country;
  } catch {
    return undefined;
  }
}

/** A sender's stored address: short code digits, or E.164 for long codes and toll-free numbers. */
export function normalizeSenderAddress(
  input: string,
  kind: SenderKind,
  defaultRegion: string,
  field = "input.address",
): string {
  const raw = input.trim();
  if (kind === "SHORT_CODE") {
    if (!/^\d{3,8}$/.test(raw))
      throw badInput(field, `a short code is 3 to 8 digits, got "${raw}"`);
    return raw;
  }
  const e164 = normalizePhone(raw, defaultRegion, field);
  const type = parsePhoneNumberWithError(e164).getType();
  if (kind === "TOLL_FREE" && type !== "TOLL_FREE") {
    throw badInput(field, `${e164} is not a toll-free number`);
  }
  if (kind === "LONG_CODE" && type === "TOLL_FREE") {
    throw badInput(field, `${e164} is a toll-free number: use kind TOLL_FREE`);
  }
  return e164;
}
