// canonicalJson writes exactly what the `canonicalize` package (4.0.0, the version the ledger was
// first hashed with) writes (the ledger's hashes and the
// import's record identities depend on every byte), and refuses exactly what it refuses.
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/domain/canonical-json.ts";

const SEED = Number(process.env.CANONICAL_JSON_SEED ?? 20261129);

function outcome(write: (value: unknown) => string | undefined, value: unknown) {
  try {
    return { text: write(value) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Strings of any UTF-16 code units: lone surrogates, astral pairs, controls, quotes. */
const anyText = fc.string({ unit: "binary" });
const wellFormedText = fc.string({ unit: "grapheme" });

const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer(),
    fc.double(), // NaN, ±Infinity, -0 and the shortest round-trip forms
    fc.constantFrom(1e21, 1e-7, 5e-324, 2 ** 53, -0),
    anyText,
    wellFormedText,
    fc.date({ noInvalidDate: true }),
  ),
  node: fc.oneof(
    { depthSize: "small" },
    tie("leaf"),
    fc.array(tie("node"), { maxLength: 5 }),
    fc.dictionary(fc.oneof(anyText, wellFormedText), tie("node"), { maxKeys: 6 }),
    tie("node").map((inner) => ({ toJSON: () => inner })),
  ),
}));

describe("canonicalJson", () => {
  it("agrees with the canonicalize package on random values", () => {
    fc.assert(
      fc.property(value.node, (input) => {
        expect(outcome(canonicalJson, input)).toEqual(outcome(canonicalize, input));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it("agrees on the shapes the ledger hashes, and on what it refuses", () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const cases: unknown[] = [
      { v: 1, sequence: 12, occurredAt: new Date(0), evidence: { b: [1, "é", null], a: "\u2028" } },
      { "\ud800": 1 },
      ["\udc00"],
      [undefined, Symbol("s"), () => 1],
      { f: () => 1, s: Symbol("s"), u: undefined, n: null },
      [, 1], // eslint-disable-line no-sparse-arrays
      Number.NaN,
      Number.POSITIVE_INFINITY,
      cycle,
      { "\u20ac": 1, "\r": 2, "\ud83d\ude00": 3, a: 4, A: 5, "": 6 },
      undefined,
    ];
    for (const input of cases) {
      expect(outcome(canonicalJson, input)).toEqual(outcome(canonicalize, input));
    }
  });
});
