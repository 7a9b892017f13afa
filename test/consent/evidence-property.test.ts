// Property: whatever JSON a client sends as evidence, an accepted write keeps verifyLedger ok (the
// hash covers exactly what is stored) and a refused one writes nothing. The evidence is sent as raw
// JSON text, so it can hold what JSON.stringify never writes: keys such as __proto__ and
// constructor, lone surrogates, numbers beyond a double (1e999), -0, deep nesting.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization, rowCounts } from "../support/graphql.ts";
import { verifyLedger } from "./ops.ts";

const SEED = Number(process.env.EVIDENCE_SEED ?? 20261206);
const RUNS = Number(process.env.EVIDENCE_RUNS ?? 40);

/** Any UTF-16 code unit, lone surrogates included. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: anyUnit, maxLength: 6 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", ""),
);

/** JSON text for a value, written by hand so that any escape or number form can appear. */
const quote = (text: string) =>
  `"${[...text]
    .map((ch) => {
      const code = ch.charCodeAt(0);
      if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff)
        return `\\u${code.toString(16).padStart(4, "0")}`;
      return JSON.stringify(ch).slice(1, -1);
    })
    .join("")}"`;

const numberText = fc.oneof(
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .map((n) => (Object.is(n, -0) ? "-0" : String(n))),
  fc.constantFrom("1e999", "-1e999", "12345678901234567890123", "1e-400", "-0.0", "5e-324"),
);

const { json } = fc.letrec<{ json: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    numberText,
    anyString.map(quote),
    fc.constantFrom("true", "false", "null"),
    fc.array(tie("json"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
    fc
      .array(fc.tuple(anyString, tie("json")), { maxLength: 4 })
      .map((fields) => `{${fields.map(([k, v]) => `${quote(k)}:${v}`).join(",")}}`),
  ),
}));

const objectText = fc.oneof(
  fc
    .array(fc.tuple(anyString, json), { maxLength: 5 })
    .map((fields) => `{${fields.map(([k, v]) => `${quote(k)}:${v}`).join(",")}}`),
  fc.nat({ max: 300 }).map((depth) => `{"deep":${"[".repeat(depth)}1${"]".repeat(depth)}}`),
);

describe("property: evidence is stored exactly as hashed", () => {
  it(`accepted writes keep verifyLedger ok, refused ones write nothing (seed ${SEED})`, async () => {
    const app = await testApp();
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    let n = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(objectText, fc.boolean(), async (evidence, optingIn) => {
        const phone = `+1415555${String(4000 + (n++ % 5000)).padStart(4, "0")}`;
        const before = await rowCounts(org.rowId);
        const mutation = optingIn
          ? "mutation($input: OptInInput!) { optIn(input: $input) { changed } }"
          : "mutation($input: OptOutInput!) { optOut(input: $input) { changed } }";
        const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${org.adminKey}`,
          },
          body: `{"query":${JSON.stringify(mutation)},"variables":{"input":{"phone":"${phone}","campaignId":"${campaign.id}","method":"API","evidence":${evidence}}}}`,
        });
        expect(response.status).toBeLessThan(500);
        const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
        const code = body.errors?.[0]?.extensions?.code ?? "OK";
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (body.errors) {
          expect(code).toBe("BAD_USER_INPUT");
          expect(await rowCounts(org.rowId)).toEqual(before);
        }
        expect(await verifyLedger(org.adminKey)).toMatchObject({ ok: true });
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // both branches were taken
    expect(codes.get("OK")).toBeGreaterThan(0);
    expect(codes.get("BAD_USER_INPUT")).toBeGreaterThan(0);
  });
});
