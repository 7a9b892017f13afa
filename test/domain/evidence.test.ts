// checkEvidence: what may enter the ledger as a consent change's evidence. Every refusal is
// BAD_USER_INPUT naming the field; a deep value is refused without exhausting the stack.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import { checkEvidence, MAX_EVIDENCE_DEPTH } from "../../src/domain/evidence.ts";

function refusal(value: unknown, field?: string) {
  try {
    checkEvidence(value, field);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const { code, field: at, message } = error as DomainError;
    return { code, field: at, message };
  }
  return null;
}

/** An object nested `depth` levels deep ({ a: { a: … } }), built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i += 1) value = { a: value };
  return value;
}

describe("checkEvidence", () => {
  it("passes plain evidence through and reads absent evidence as null", () => {
    const evidence = { ip: "203.0.113.7", userAgent: "Mozilla/5.0", pageUrl: "https://a.example/" };
    expect(checkEvidence(evidence)).toBe(evidence);
    expect(checkEvidence(null)).toBeNull();
    expect(checkEvidence(undefined)).toBeNull();
    expect(checkEvidence({ note: "emoji 😀 and accents é" })).toEqual({
      note: "emoji 😀 and accents é",
    });
    expect(checkEvidence(nested(MAX_EVIDENCE_DEPTH))).toEqual(nested(MAX_EVIDENCE_DEPTH));
  });

  it.each<[string, unknown, string, RegExp]>([
    ["a string", "yes", "input.evidence", /must be a JSON object/],
    ["an array", [1], "input.evidence", /must be a JSON object/],
    ["too deep by one", nested(MAX_EVIDENCE_DEPTH + 1), "input.evidence", /nested at most 32/],
    ["100,000 levels deep", nested(100_000), "input.evidence", /nested at most 32/],
    [
      "deep through arrays",
      { a: JSON.parse("[".repeat(40) + "]".repeat(40)) },
      "input.evidence",
      /nested/,
    ],
    ["a lone high surrogate", { note: "a\uD800b" }, "input.evidence", /valid Unicode/],
    ["a lone low surrogate", { note: "\uDC00" }, "input.evidence", /valid Unicode/],
    ["a surrogate at the end", { deep: ["ok", "x\uD83D"] }, "input.evidence", /valid Unicode/],
    ["a lone surrogate in a key", { ["k\uDFFF"]: 1 }, "input.evidence", /valid Unicode/],
    ["__proto__", JSON.parse('{"__proto__": {"x": 1}}'), "input.evidence", /"__proto__"/],
    ["constructor, nested", { a: [{ constructor: 1 }] }, "input.evidence", /"constructor"/],
    ["prototype", { prototype: null }, "input.evidence", /"prototype"/],
    ["NUL", { note: "a\u0000b" }, "input.evidence", /NUL/],
    ["too large", { note: "x".repeat(20_000) }, "input.evidence", /bytes of JSON/],
    ["a bad ip", { ip: "999.1.1.1" }, "input.evidence.ip", /not an IP address/],
    ["a long user agent", { userAgent: "x".repeat(1001) }, "input.evidence.userAgent", /1000/],
    ["a javascript: url", { pageUrl: "javascript:alert(1)" }, "input.evidence.pageUrl", /http/],
  ])("refuses %s", (_label, value, field, message) => {
    const error = refusal(value);
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field });
    expect(error!.message).toMatch(message);
    expect(error!.message.startsWith(`${field}: `)).toBe(true);
  });

  it("names the field it is given", () => {
    expect(refusal({ note: "\uD800" }, "input.x")).toMatchObject({ field: "input.x" });
  });

  it("accepts exactly the well-formed objects without reserved keys or NUL (property)", () => {
    const awkward = fc.constantFrom("\uD800", "a\uDC00b", "\u0000", "😀", "__proto__", "prototype");
    const text = fc.oneof(fc.string({ unit: "grapheme", maxLength: 6 }), awkward);
    const key = fc.oneof(text, fc.constant("constructor"));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.oneof(text, fc.integer(), fc.boolean()),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(key, tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    const strings = (value: unknown): string[] =>
      typeof value === "string"
        ? [value]
        : Array.isArray(value)
          ? value.flatMap(strings)
          : typeof value === "object" && value !== null
            ? Object.entries(value).flatMap(([k, v]) => [`key:${k}`, ...strings(v)])
            : [];
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 4 }), (value) => {
        const all = strings(value);
        const wellFormed = all.every(
          (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s),
        );
        const reserved = all.some((s) => /^key:(__proto__|constructor|prototype)$/.test(s));
        const nul = all.some((s) => s.includes("\u0000"));
        expect(refusal(value) === null).toBe(wellFormed && !reserved && !nul);
      }),
      { seed: 20261206, numRuns: 500 },
    );
  });
});
