// What a valid campaign is: its name, join keywords, status changes, and the disclosures the
// opt-in language must carry (COMPLIANCE.md: program name, rates, HELP, STOP, and for marketing
// the "not a condition of purchase" statement plus terms and privacy links).
import { createHash } from "node:crypto";
import { badInput, conflict } from "./errors.ts";
import { isReservedKeyword, normalizeMessage } from "./keywords.ts";

export type CampaignPurpose = "MARKETING" | "INFORMATIONAL" | "TRANSACTIONAL";
export type CampaignStatus = "DRAFT" | "ACTIVE" | "PAUSED" | "ARCHIVED";

export interface Disclosures {
  programName: string;
  messageFrequency: string;
  termsUrl: string | null;
  privacyUrl: string | null;
  helpText: string;
  optInConfirmation: string;
  optOutConfirmation: string;
  consentLanguage: string;
  /** the reply texts in other languages, one per locale (versioned with the rest) */
  translations: TextTranslation[];
}

/** A campaign's reply texts in one language, sent to subscribers who text in it. */
export interface TextTranslation {
  /** BCP 47 language tag, canonical ("es", "pt-BR") */
  locale: string;
  helpText: string;
  optInConfirmation: string;
  optOutConfirmation: string;
}

const MAX_TRANSLATIONS = 20;

const MAX_KEYWORDS = 20;
const SMS_TEXT_MAX = 320;

function requiredText(field: string, value: string, max: number): string {
  const text = value.trim();
  if (text === "") throw badInput(field, "must not be empty");
  if (text.length > max)
    throw badInput(field, `must be at most ${max} characters, got ${text.length}`);
  return text;
}

function optionalUrl(field: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined || value.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw badInput(field, `"${value}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw badInput(field, `must be an http(s) URL, got ${url.protocol}`);
  }
  return url.toString();
}

export function validateCampaignName(value: string, field = "input.name"): string {
  return requiredText(field, value, 100);
}

/** Join keywords: single words of letters and digits, upper-cased, none of the reserved ones. */
export function normalizeJoinKeywords(
  values: readonly string[],
  field = "input.keywords",
): string[] {
  if (values.length > MAX_KEYWORDS) throw badInput(field, `at most ${MAX_KEYWORDS} keywords`);
  const seen = new Set<string>();
  values.forEach((value, i) => {
    const keyword = normalizeMessage(value);
    if (!/^[\p{L}\p{N}]{2,20}$/u.test(keyword)) {
      throw badInput(`${field}[${i}]`, `"${value}" must be one word of 2 to 20 letters or digits`);
    }
    if (isReservedKeyword(keyword)) {
      throw badInput(`${field}[${i}]`, `"${keyword}" is reserved for opt-out, opt-in or help`);
    }
    seen.add(keyword);
  });
  return [...seen];
}

/** Checks the disclosures of a campaign of the given purpose and returns them trimmed. */
/** Disclosures as given: translations may be left out. */
export type DisclosuresInput = Omit<Disclosures, "translations"> & {
  translations?: readonly TextTranslation[] | null;
};

export function validateDisclosures(
  input: DisclosuresInput,
  purpose: CampaignPurpose,
  field = "input.disclosures",
): Disclosures {
  const d: Disclosures = {
    programName: requiredText(`${field}.programName`, input.programName, 100),
    messageFrequency: requiredText(`${field}.messageFrequency`, input.messageFrequency, 200),
    termsUrl: optionalUrl(`${field}.termsUrl`, input.termsUrl),
    privacyUrl: optionalUrl(`${field}.privacyUrl`, input.privacyUrl),
    helpText: requiredText(`${field}.helpText`, input.helpText, SMS_TEXT_MAX),
    optInConfirmation: requiredText(
      `${field}.optInConfirmation`,
      input.optInConfirmation,
      SMS_TEXT_MAX,
    ),
    optOutConfirmation: requiredText(
      `${field}.optOutConfirmation`,
      input.optOutConfirmation,
      SMS_TEXT_MAX,
    ),
    consentLanguage: requiredText(`${field}.consentLanguage`, input.consentLanguage, 4000),
    translations: validateTranslations(input.translations ?? [], `${field}.translations`),
  };
  const language = d.consentLanguage;
  const missing: string[] = [];
  if (!language.toLowerCase().includes(d.programName.toLowerCase()))
    missing.push("the program name");
  if (!/data rates may apply/i.test(language)) missing.push('"Msg & data rates may apply"');
  if (!/\bHELP\b/.test(language)) missing.push("HELP for help");
  if (!/\bSTOP\b/.test(language)) missing.push("STOP to opt out");
  if (purpose === "MARKETING" && !/not a condition of (any )?purchase/i.test(language)) {
    missing.push('"not a condition of purchase" (required for marketing)');
  }
  if (missing.length > 0) {
    throw badInput(`${field}.consentLanguage`, `must state ${missing.join(", ")}`);
  }
  if (purpose === "MARKETING") {
    if (!d.termsUrl) throw badInput(`${field}.termsUrl`, "is required for marketing campaigns");
    if (!d.privacyUrl) throw badInput(`${field}.privacyUrl`, "is required for marketing campaigns");
  }
  return d;
}

/** The canonical form of a BCP 47 language tag ("ES-mx" → "es-MX"), or BAD_USER_INPUT. */
export function canonicalLocale(value: string, field: string): string {
  let tags: string[];
  try {
    tags = Intl.getCanonicalLocales(value.trim());
  } catch {
    throw badInput(field, `"${value}" is not a BCP 47 language tag (such as "es" or "pt-BR")`);
  }
  if (tags.length !== 1) throw badInput(field, `"${value}" is not one language tag`);
  return tags[0];
}

/** Translations of the reply texts: a valid, distinct locale each, every text present. */
function validateTranslations(
  values: readonly TextTranslation[],
  field: string,
): TextTranslation[] {
  if (values.length > MAX_TRANSLATIONS) {
    throw badInput(field, `at most ${MAX_TRANSLATIONS} translations`);
  }
  const seen = new Set<string>();
  return values.map((t, i) => {
    const at = `${field}[${i}]`;
    const locale = canonicalLocale(t.locale, `${at}.locale`);
    if (seen.has(locale)) throw badInput(`${at}.locale`, `"${locale}" is translated twice`);
    seen.add(locale);
    return {
      locale,
      helpText: requiredText(`${at}.helpText`, t.helpText, SMS_TEXT_MAX),
      optInConfirmation: requiredText(`${at}.optInConfirmation`, t.optInConfirmation, SMS_TEXT_MAX),
      optOutConfirmation: requiredText(
        `${at}.optOutConfirmation`,
        t.optOutConfirmation,
        SMS_TEXT_MAX,
      ),
    };
  });
}

/** Whether validated disclosures say exactly what a stored version says (its translations too). */
export function sameDisclosures(
  a: Disclosures,
  b: Omit<Disclosures, "translations"> & { translations: unknown },
): boolean {
  return (Object.keys(a) as (keyof Disclosures)[]).every((k) =>
    k === "translations"
      ? JSON.stringify(a.translations) === JSON.stringify(b.translations ?? [])
      : a[k] === b[k],
  );
}

export function consentLanguageHash(language: string): string {
  return createHash("sha256").update(language, "utf8").digest("hex");
}

const STATUS_MOVES: Record<CampaignStatus, readonly CampaignStatus[]> = {
  DRAFT: ["ACTIVE", "ARCHIVED"],
  ACTIVE: ["PAUSED", "ARCHIVED"],
  PAUSED: ["ACTIVE", "ARCHIVED"],
  ARCHIVED: [],
};

/** Throws CONFLICT when a campaign may not move from `from` to `to`; same status is allowed. */
export function assertStatusChange(from: CampaignStatus, to: CampaignStatus): void {
  if (from === to) return;
  if (!STATUS_MOVES[from].includes(to)) {
    throw conflict(`A ${from} campaign cannot become ${to}.`, "input.status");
  }
}
