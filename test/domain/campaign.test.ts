// Unit tests of the campaign rules: disclosures, join keywords, names and the status machine.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  assertStatusChange,
  consentLanguageHash,
  normalizeJoinKeywords,
  sameDisclosures,
  validateCampaignName,
  validateDisclosures,
  type CampaignPurpose,
  type CampaignStatus,
  type Disclosures,
} from "../../src/domain/campaign.ts";
import { DomainError } from "../../src/domain/errors.ts";
import {
  CONFIRM_KEYWORDS,
  HELP_KEYWORDS,
  OPT_IN_KEYWORDS,
  OPT_OUT_ALL_KEYWORDS,
  OPT_OUT_KEYWORDS,
} from "../../src/domain/keywords.ts";

const LANGUAGE =
  "By entering your number you agree to receive recurring marketing texts from Acme Deals. " +
  "Consent is not a condition of purchase. Up to 4 msgs/month. Msg & data rates may apply. " +
  "Reply HELP for help and STOP to cancel.";

const valid = (overrides: Partial<Disclosures> = {}): Disclosures => ({
  programName: "Acme Deals",
  messageFrequency: "Up to 4 msgs/month",
  termsUrl: "https://acme.example/terms",
  privacyUrl: "https://acme.example/privacy",
  helpText: "Acme Deals: help at support@acme.example.",
  optInConfirmation: "Acme Deals: you're in! Reply HELP for help, STOP to cancel.",
  optOutConfirmation: "Acme Deals: you're unsubscribed.",
  consentLanguage: LANGUAGE,
  translations: [],
  ...overrides,
});

const SPANISH = {
  locale: "es",
  helpText: "Acme Deals: ayuda en support@acme.example.",
  optInConfirmation: "Acme Deals: ¡ya estás suscrito! Responde STOP para cancelar.",
  optOutConfirmation: "Acme Deals: ya no recibirás mensajes.",
};

/** The DomainError a call throws (fails the test when it throws nothing or something else). */
function thrown(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error("expected a DomainError, nothing was thrown");
}

describe("validateDisclosures", () => {
  it("keeps translations of the reply texts, each locale canonical and trimmed", () => {
    const result = validateDisclosures(
      valid({
        translations: [
          { ...SPANISH, locale: " ES-mx ", helpText: ` ${SPANISH.helpText} ` },
          { ...SPANISH, locale: "fr" },
        ],
      }),
      "MARKETING",
    );
    expect(result.translations.map((t) => t.locale)).toEqual(["es-MX", "fr"]);
    expect(result.translations[0].helpText).toBe(SPANISH.helpText);
  });

  it("takes no translations as none", () => {
    const { translations: _, ...without } = valid();
    expect(validateDisclosures(without, "MARKETING").translations).toEqual([]);
  });

  it.each([
    [[{ ...SPANISH, locale: "not a locale!" }], "translations[0].locale", /BCP 47/],
    [[{ ...SPANISH, locale: "" }], "translations[0].locale", /BCP 47/],
    [[SPANISH, { ...SPANISH, locale: "ES" }], "translations[1].locale", /translated twice/],
    [[{ ...SPANISH, helpText: "  " }], "translations[0].helpText", /must not be empty/],
    [
      [{ ...SPANISH, optOutConfirmation: "x".repeat(321) }],
      "translations[0].optOutConfirmation",
      /at most 320/,
    ],
  ])("refuses translations %j at %s", (translations, field, message) => {
    const error = thrown(() => validateDisclosures(valid({ translations }), "MARKETING"));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe(`input.disclosures.${field}`);
    expect(error.message).toMatch(message);
  });

  it("sees a changed translation as changed disclosures (a new version)", () => {
    const stored = validateDisclosures(valid({ translations: [SPANISH] }), "MARKETING");
    const same = validateDisclosures(valid({ translations: [SPANISH] }), "MARKETING");
    const changed = validateDisclosures(
      valid({ translations: [{ ...SPANISH, optOutConfirmation: "Adiós." }] }),
      "MARKETING",
    );
    expect(sameDisclosures(same, stored)).toBe(true);
    expect(sameDisclosures(changed, stored)).toBe(false);
  });

  it("accepts complete marketing disclosures and returns them trimmed", () => {
    const result = validateDisclosures(
      valid({ programName: "  Acme Deals  ", helpText: " help me \n" }),
      "MARKETING",
    );
    expect(result.programName).toBe("Acme Deals");
    expect(result.helpText).toBe("help me");
    expect(result.termsUrl).toBe("https://acme.example/terms");
  });

  it("normalizes URLs (a bare origin gets its slash)", () => {
    const result = validateDisclosures(valid({ termsUrl: " https://acme.example " }), "MARKETING");
    expect(result.termsUrl).toBe("https://acme.example/");
  });

  const drop = (text: string) => LANGUAGE.replace(text, "");

  it.each<[string, string, CampaignPurpose, RegExp]>([
    ["the program name", LANGUAGE.replace("Acme Deals", "us"), "MARKETING", /program name/],
    [
      "the program name (informational)",
      LANGUAGE.replace("Acme Deals", "us"),
      "INFORMATIONAL",
      /program name/,
    ],
    ["the rates notice", drop("Msg & data rates may apply. "), "MARKETING", /data rates may apply/],
    ["HELP", drop("Reply HELP for help and "), "MARKETING", /HELP/],
    [
      "HELP in capitals (lower-case help does not count)",
      LANGUAGE.replace("HELP", "help"),
      "MARKETING",
      /HELP/,
    ],
    ["STOP", drop(" and STOP to cancel"), "TRANSACTIONAL", /STOP/],
    [
      "not a condition of purchase",
      drop("Consent is not a condition of purchase. "),
      "MARKETING",
      /condition of purchase/,
    ],
  ])("refuses consent language without %s", (_what, consentLanguage, purpose, message) => {
    const error = thrown(() => validateDisclosures(valid({ consentLanguage }), purpose));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe("input.disclosures.consentLanguage");
    expect(error.message).toMatch(/^input\.disclosures\.consentLanguage: must state /);
    expect(error.message).toMatch(message);
  });

  it("names every missing element in one message", () => {
    const error = thrown(() =>
      validateDisclosures(valid({ consentLanguage: "Texts from somebody." }), "MARKETING"),
    );
    for (const part of ["program name", "data rates", "HELP", "STOP", "condition of purchase"]) {
      expect(error.message).toContain(part);
    }
  });

  it("matches the program name case-insensitively and accepts 'any purchase'", () => {
    const consentLanguage = LANGUAGE.replace("Acme Deals", "ACME DEALS").replace(
      "condition of purchase",
      "condition of any purchase",
    );
    expect(validateDisclosures(valid({ consentLanguage }), "MARKETING").consentLanguage).toBe(
      consentLanguage,
    );
  });

  it.each<CampaignPurpose>(["INFORMATIONAL", "TRANSACTIONAL"])(
    "%s campaigns need neither the purchase statement nor terms and privacy links",
    (purpose) => {
      const result = validateDisclosures(
        valid({
          consentLanguage: LANGUAGE.replace("Consent is not a condition of purchase. ", ""),
          termsUrl: null,
          privacyUrl: "  ",
        }),
        purpose,
      );
      expect(result.termsUrl).toBeNull();
      expect(result.privacyUrl).toBeNull();
    },
  );

  it.each<["termsUrl" | "privacyUrl", string | null]>([
    ["termsUrl", null],
    ["termsUrl", ""],
    ["privacyUrl", null],
    ["privacyUrl", "   "],
  ])("marketing campaigns require %s (given %j)", (field, value) => {
    const error = thrown(() => validateDisclosures(valid({ [field]: value }), "MARKETING"));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe(`input.disclosures.${field}`);
    expect(error.message).toContain("required for marketing");
  });

  it.each([
    ["termsUrl", "not a url"],
    ["termsUrl", "acme.example/terms"],
    ["privacyUrl", "ftp://acme.example/privacy"],
    ["privacyUrl", "javascript:alert(1)"],
    ["termsUrl", "mailto:legal@acme.example"],
  ])("refuses %s %j", (field, value) => {
    const error = thrown(() => validateDisclosures(valid({ [field]: value }), "INFORMATIONAL"));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe(`input.disclosures.${field}`);
    expect(error.message.startsWith(`input.disclosures.${field}: `)).toBe(true);
  });

  it.each<[keyof Disclosures, string]>([
    ["programName", ""],
    ["programName", "   "],
    ["programName", "x".repeat(101)],
    ["messageFrequency", ""],
    ["messageFrequency", "x".repeat(201)],
    ["helpText", "\n\t"],
    ["helpText", "x".repeat(321)],
    ["optInConfirmation", ""],
    ["optInConfirmation", "x".repeat(321)],
    ["optOutConfirmation", ""],
    ["optOutConfirmation", "x".repeat(321)],
    ["consentLanguage", ""],
    ["consentLanguage", `${LANGUAGE} ${"x".repeat(4000)}`],
  ])("refuses %s of length %#", (field, value) => {
    const error = thrown(() => validateDisclosures(valid({ [field]: value }), "MARKETING"));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe(`input.disclosures.${field}`);
    expect(error.message).toMatch(
      value.trim() === "" ? /must not be empty/ : /at most \d+ characters/,
    );
  });

  it("accepts texts exactly at their limits", () => {
    const sms = "x".repeat(320);
    const result = validateDisclosures(
      valid({ helpText: sms, optInConfirmation: sms, optOutConfirmation: sms }),
      "MARKETING",
    );
    expect(result.helpText).toHaveLength(320);
  });

  it("uses the field prefix it is given", () => {
    const error = thrown(() =>
      validateDisclosures(valid({ programName: "" }), "MARKETING", "disclosures"),
    );
    expect(error.field).toBe("disclosures.programName");
  });
});

describe("sameDisclosures and consentLanguageHash", () => {
  it("compares every field", () => {
    expect(sameDisclosures(valid(), valid())).toBe(true);
    for (const key of Object.keys(valid()) as (keyof Disclosures)[]) {
      expect(sameDisclosures(valid(), valid({ [key]: "changed" })), key).toBe(false);
    }
  });

  it("hashes the consent language as SHA-256 hex", () => {
    expect(consentLanguageHash("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(consentLanguageHash(LANGUAGE)).toBe(
      createHash("sha256").update(LANGUAGE, "utf8").digest("hex"),
    );
  });
});

describe("validateCampaignName", () => {
  it.each([
    ["  Spring Sale  ", "Spring Sale"],
    ["x".repeat(100), "x".repeat(100)],
  ])("accepts %j", (input, expected) => {
    expect(validateCampaignName(input)).toBe(expected);
  });

  it.each(["", "   ", "x".repeat(101)])("refuses %j", (input) => {
    const error = thrown(() => validateCampaignName(input));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe("input.name");
    expect(error.message.startsWith("input.name: ")).toBe(true);
  });
});

describe("normalizeJoinKeywords", () => {
  it.each<[string[], string[]]>([
    [[], []],
    [["join"], ["JOIN"]],
    [["  Join  "], ["JOIN"]],
    [["JOIN", "join", "Join"], ["JOIN"]],
    [
      ["deals", "promo2024"],
      ["DEALS", "PROMO2024"],
    ],
    [["2024"], ["2024"]],
    [
      ["Ofertas", "été"],
      ["OFERTAS", "ÉTÉ"],
    ],
    // surrounding punctuation is stripped, as it is from inbound messages
    [["join!"], ["JOIN"]],
    [["ab"], ["AB"]],
    [["x".repeat(20)], ["X".repeat(20)]],
  ])("%j → %j", (input, expected) => {
    expect(normalizeJoinKeywords(input)).toEqual(expected);
  });

  it.each<[string[], number, RegExp]>([
    [["a"], 0, /one word of 2 to 20/],
    [["x".repeat(21)], 0, /one word of 2 to 20/],
    [["SALE NOW"], 0, /one word/],
    [["SALE-NOW"], 0, /one word/],
    [["SALE_NOW"], 0, /one word/],
    [["sa.le"], 0, /one word/],
    [[""], 0, /one word/],
    [["JOIN", "half off"], 1, /one word/],
    [["JOIN", "stop"], 1, /reserved/],
  ])("refuses %j at index %i", (input, index, message) => {
    const error = thrown(() => normalizeJoinKeywords(input));
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe(`input.keywords[${index}]`);
    expect(error.message).toMatch(message);
  });

  const reservedOneWord = [
    ...OPT_OUT_KEYWORDS,
    ...OPT_OUT_ALL_KEYWORDS,
    ...OPT_IN_KEYWORDS,
    ...CONFIRM_KEYWORDS,
    ...HELP_KEYWORDS,
  ].filter((k) => /^[\p{L}\p{N}]{2,20}$/u.test(k));

  it("covers the reserved keywords of COMPLIANCE.md", () => {
    for (const k of [
      "STOP",
      "UNSUBSCRIBE",
      "CANCEL",
      "END",
      "QUIT",
      "HELP",
      "INFO",
      "START",
      "YES",
    ])
      expect(reservedOneWord).toContain(k);
  });

  it.each(reservedOneWord.flatMap((k) => [k, k.toLowerCase()]))(
    "refuses the reserved keyword %s",
    (keyword) => {
      const error = thrown(() => normalizeJoinKeywords([keyword]));
      expect(error.code).toBe("BAD_USER_INPUT");
      expect(error.field).toBe("input.keywords[0]");
      expect(error.message).toContain("reserved");
    },
  );

  it("allows at most 20 keywords", () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `KW${i}`);
    expect(normalizeJoinKeywords(twenty)).toHaveLength(20);
    const error = thrown(() => normalizeJoinKeywords([...twenty, "KW20"]));
    expect(error.field).toBe("input.keywords");
  });

  it("uses the field it is given", () => {
    expect(thrown(() => normalizeJoinKeywords(["STOP"], "keywords")).field).toBe("keywords[0]");
  });
});

describe("assertStatusChange", () => {
  const statuses: CampaignStatus[] = ["DRAFT", "ACTIVE", "PAUSED", "ARCHIVED"];
  const allowed = new Set([
    "DRAFT→DRAFT",
    "DRAFT→ACTIVE",
    "DRAFT→ARCHIVED",
    "ACTIVE→ACTIVE",
    "ACTIVE→PAUSED",
    "ACTIVE→ARCHIVED",
    "PAUSED→PAUSED",
    "PAUSED→ACTIVE",
    "PAUSED→ARCHIVED",
    "ARCHIVED→ARCHIVED",
  ]);
  const table = statuses.flatMap((from) =>
    statuses.map((to) => [from, to, allowed.has(`${from}→${to}`)] as const),
  );

  it("has all 16 moves", () => expect(table).toHaveLength(16));

  it.each(table)("%s → %s allowed: %s", (from, to, ok) => {
    if (ok) {
      expect(() => assertStatusChange(from, to)).not.toThrow();
    } else {
      const error = thrown(() => assertStatusChange(from, to));
      expect(error.code).toBe("CONFLICT");
      expect(error.field).toBe("input.status");
      expect(error.message).toBe(`A ${from} campaign cannot become ${to}.`);
    }
  });
});
