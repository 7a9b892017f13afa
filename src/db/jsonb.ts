// What PostgreSQL gives back for a JSON value stored as `jsonb`. jsonb keeps no key order of its
// own: an object's keys come back shortest first, keys of one length in the order of their UTF-8
// bytes (PostgreSQL's lengthCompareJsonbStringValue), duplicates resolved to the last. A row built
// in memory and handed on as the database would return it (a committed ledger event offered to this
// instance's live streams without reading it back) uses this, so it reads the same as when it is
// read from the table.

const byteLengths = new Map<string, number>();

function byteLength(key: string): number {
  let length = byteLengths.get(key);
  if (length === undefined) {
    length = Buffer.byteLength(key, "utf8");
    if (byteLengths.size < 10_000) byteLengths.set(key, length);
  }
  return length;
}

function compareKeys(a: string, b: string): number {
  const lengths = byteLength(a) - byteLength(b);
  if (lengths !== 0) return lengths;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordered);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  // fromEntries defines each key as an own property ("__proto__" included), as JSON.parse does
  return Object.fromEntries(
    Object.keys(object)
      .sort(compareKeys)
      .map((key) => [key, ordered(object[key])]),
  );
}

/** The value a JSON text reads back as once stored in a `jsonb` column. */
export function jsonbValue(text: string): unknown {
  return ordered(JSON.parse(text));
}
