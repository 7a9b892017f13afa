// jsonbValue (src/db/jsonb.ts) gives what the database gives back for a JSON text stored as jsonb:
// checked against the database itself, on objects whose key order jsonb changes.
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/domain/canonical-json.ts";
import { jsonbValue } from "../../src/db/jsonb.ts";
import { engine, testApp } from "../support/app.ts";

const VALUES: unknown[] = [
  { b: 1, aa: 2, a: 3, B: 4, "": 5 },
  { zeta: { y: [{ é: 1, f: 2, ab: 3, ü: 4 }], zz: 1 }, ä: 5, c: [] },
  // integer-like keys, which JavaScript keeps first in any object
  { "10": "ten", "9": "nine", x: 1, "01": "not an index" },
  // keys of one length told apart by their UTF-8 bytes, not their UTF-16 units
  { "\u{1F600}": 1, "\uFFFD": 2, ab: 3, "é\u0301": 4 },
  // "__proto__" as an own key, as JSON.parse makes it
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1, "a": null}'),
  [{ b: 1, a: 2 }, "text", 1.5, -0, 1e21, true, null],
  "just a string",
  null,
];

describe(`jsonb's key order (${engine})`, () => {
  it("is what the database gives back for the same text", async () => {
    const { db } = await testApp();
    for (const value of VALUES) {
      const text = canonicalJson(value)!;
      const [stored] = await db.prepared<{ text: string }>(`select $1::text::jsonb::text as text`, [
        text,
      ]);
      expect(JSON.stringify(jsonbValue(text)), text).toBe(JSON.stringify(JSON.parse(stored.text)));
    }
  });

  it("keeps __proto__ an own key, never the object's prototype", () => {
    const value = jsonbValue('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
