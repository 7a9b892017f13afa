// RFC 8785 (JSON Canonicalization Scheme) text of a value, exactly as the `canonicalize` package
// writes it (sorted keys, ECMAScript number and string forms; NaN, Infinity, lone surrogates and
// cycles refused), for every input: test/domain/canonical-json.test.ts compares the two on random
// values. It is the package's algorithm without its per-call costs, which were a sixth of a bulk
// import's CPU (docs/BENCHMARKS.md): a lone surrogate is found by the engine's isWellFormed rather
// than a loop over each string's characters, and a key is not canonicalized through a fresh
// cycle-tracking Set of its own.

const isWellFormed = (text: string) =>
  (text as string & { isWellFormed(): boolean }).isWellFormed();

function key(name: string): string {
  if (!isWellFormed(name)) throw new Error("Lone surrogate is not allowed");
  return JSON.stringify(name);
}

function write(value: unknown, seen: Set<object>): string | undefined {
  if (typeof value === "number") {
    if (Number.isNaN(value)) throw new Error("NaN is not allowed");
    if (!Number.isFinite(value)) throw new Error("Infinity is not allowed");
    return JSON.stringify(value);
  }
  if (typeof value === "string") return key(value);
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (seen.has(value)) throw new Error("Circular reference detected");
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    seen.add(value);
    const text = write((value as { toJSON(): unknown }).toJSON(), seen);
    seen.delete(value);
    return text;
  }
  seen.add(value);
  let text: string;
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) =>
      write(item === undefined || typeof item === "symbol" ? null : item, seen),
    );
    text = `[${items.join(",")}]`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const name of Object.keys(record).sort()) {
      const field = record[name];
      if (field === undefined || typeof field === "symbol") continue;
      parts.push(`${key(name)}:${write(field, seen)}`);
    }
    text = `{${parts.join(",")}}`;
  }
  seen.delete(value);
  return text;
}

/** The canonical JSON text of `value`; undefined for what JSON has no text for (undefined, a function). */
export function canonicalJson(value: unknown): string | undefined {
  return write(value, new Set());
}
