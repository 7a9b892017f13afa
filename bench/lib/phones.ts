// Valid, distinct US numbers by area code: each use (seeded subscribers, each side's writes, …)
// gets its own area code, so no two streams of a run ever touch the same number.

/** Exchanges 230–299 × 10,000 lines: 700,000 numbers per area code, all valid for libphonenumber. */
export const NUMBERS_PER_AREA = 700_000;

export function phoneNumber(areaCode: string, n: number): string {
  const i = n % NUMBERS_PER_AREA;
  const exchange = 230 + Math.floor(i / 10_000);
  const line = String(i % 10_000).padStart(4, "0");
  return `+1${areaCode}${exchange}${line}`;
}

/**
 * The opted-in subscribers of the read paths, spread over eight area codes in six US time zones
 * and the states with their own quiet hours (Florida, Oklahoma, Texas).
 */
export const SEEDED_AREAS = ["415", "206", "303", "602", "713", "405", "305", "617"] as const;

export const seededPhone = (i: number) =>
  phoneNumber(SEEDED_AREAS[i % SEEDED_AREAS.length], Math.floor(i / SEEDED_AREAS.length));

/** Area codes by use. */
export const AREA = {
  unknown: "212",
  optInOptgraph: "628",
  optInBaseline: "650",
  fanOut: "510",
  webhook: "646",
  webhookBaseline: "718",
  senders: "312",
  /** the requests whose SQL statements are counted */
  statements: "702",
} as const;
