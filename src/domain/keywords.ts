// The keyword engine: every inbound message is normalized (trim, NFKC, case-fold, surrounding
// punctuation and emoji stripped, spaces collapsed) and classified into an intent.
//
// The rule, because missing a revocation is the expensive mistake:
// - A whole message equal to a keyword means that keyword (STOP, STOPALL, START, YES, HELP, a
//   campaign's join keyword, and the Spanish and French opt-outs), with or without accents.
// - A message that starts or ends with an opt-out keyword ("STOP please", "please stop"), or that
//   reasonably expresses revocation in other words ("please stop texting me", "remove me from
//   your list", "no more messages", "wrong number") is an OPT_OUT marked for review.
// - Anything else is UNKNOWN: a keyword inside other words ("Stopwatch on sale?", "I can't stop
//   smiling") is not one. Opt-ins are never guessed: they need the exact keyword.

export type KeywordIntent = "OPT_OUT" | "OPT_OUT_ALL" | "OPT_IN" | "CONFIRM" | "HELP" | "UNKNOWN";

export const OPT_OUT_KEYWORDS = [
  "STOP",
  "UNSUBSCRIBE",
  "CANCEL",
  "END",
  "QUIT",
  "REVOKE",
  "OPTOUT",
  "OPT OUT",
  "OPT-OUT",
  "PARAR",
  "ALTO",
  "DETENER",
  "CANCELAR",
  "ARRET",
  "ARRÊT",
] as const;
export const OPT_OUT_ALL_KEYWORDS = ["STOPALL", "STOP ALL"] as const;
export const OPT_IN_KEYWORDS = ["START", "UNSTOP"] as const;
export const CONFIRM_KEYWORDS = ["YES", "Y"] as const;
export const HELP_KEYWORDS = ["HELP", "INFO", "AYUDA"] as const;

/** Trim, NFKC, case-fold (upper), strip surrounding punctuation and emoji, collapse spaces. */
export function normalizeMessage(body: string): string {
  return body
    .normalize("NFKC")
    .toUpperCase()
    .replace(/^[\s\p{P}\p{S}\p{Extended_Pictographic}\u200d\ufe0f]+/u, "")
    .replace(/[\s\p{P}\p{S}\p{Extended_Pictographic}\u200d\ufe0f]+$/u, "")
    .replace(/\s+/gu, " ");
}

/**
 * The form used for matching: accent-free, so ARRÊT and ARRET are one keyword, and with the
 * typographic apostrophes phones type (DON’T) as the ASCII one.
 */
const plain = (text: string) =>
  text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[\u2018\u2019\u02bc]/gu, "'");

/** A keyword as it is matched: normalized and plain (campaign keywords are stored normalized). */
export const keywordKey = (word: string) => plain(normalizeMessage(word));

const keySet = (keywords: readonly string[]) => new Set(keywords.map(keywordKey));
const OPT_OUT = keySet(OPT_OUT_KEYWORDS);
const OPT_OUT_ALL = keySet(OPT_OUT_ALL_KEYWORDS);
const OPT_IN = keySet(OPT_IN_KEYWORDS);
const CONFIRM = keySet(CONFIRM_KEYWORDS);
const HELP = keySet(HELP_KEYWORDS);

/** The plain (accent-free) forms of every keyword with a fixed meaning. */
export const RESERVED_KEYWORDS: ReadonlySet<string> = new Set([
  ...OPT_OUT,
  ...OPT_OUT_ALL,
  ...OPT_IN,
  ...CONFIRM,
  ...HELP,
]);

/** START or UNSTOP (as classified): the subscriber asks back what it stopped. */
export const isResubscribeKeyword = (keyword: string | null) =>
  keyword !== null && OPT_IN.has(keyword);

/** Whether a word has a fixed meaning, so that no campaign may claim it as a join keyword. */
export const isReservedKeyword = (word: string) => RESERVED_KEYWORDS.has(keywordKey(word));

/** Revocation in other words (English and Spanish), matched on the accent-free upper-case text. */
const REVOCATION_PHRASES: readonly RegExp[] = [
  /\b(STOP|QUIT|CEASE|END)\b.{0,25}\b(TEXT|TEXTS|TEXTING|MESSAGE|MESSAGES|MESSAGING|SMS|CONTACT|CONTACTING|SENDING|SEND|CALLING)\b/,
  /\b(REMOVE|TAKE|DELETE|UNSUBSCRIBE)\b.{0,15}\b(ME|MY NUMBER|MY PHONE|THIS NUMBER)\b/,
  /\bNO MORE\b.{0,15}\b(TEXTS?|MESSAGES?|SMS|MSGS?)\b/,
  /\b(DON'?T|DO NOT|DONT|NEVER)\b.{0,10}\b(TEXT|MESSAGE|CONTACT|SMS)\b/,
  /\bOPT ME OUT\b|\bLEAVE ME ALONE\b|\bWRONG NUMBER\b|\bNOT INTERESTED\b/,
  /\b(NO|DEJEN DE|DEJA DE)\b.{0,15}\b(ME )?(ENVIEN|MANDEN|ENVIAR|MANDAR|ESCRIBIR)(ME)?\b/,
  /\bNO MAS\b.{0,15}\b(MENSAJES?|TEXTOS?|SMS)\b/,
];

/** Punctuation, symbols and emoji at either end of a word ("STOP," "STOP!!" "🛑"). */
const WORD_EDGES =
  /^[\p{P}\p{S}\p{Extended_Pictographic}\u200d\ufe0f]+|[\p{P}\p{S}\p{Extended_Pictographic}\u200d\ufe0f]+$/gu;

/**
 * What a person must do with a message:
 * - NONE: nothing (an exact keyword, or nothing consent-related);
 * - APPLIED: an opt-out read from other words, applied at once, to be confirmed or reversed;
 * - HELD: an opt-out word that reads as no revocation (a question, a negation): nothing changes
 *   until someone decides, and at the review deadline it is applied (fail safe).
 */
export type ReviewMark = "NONE" | "APPLIED" | "HELD";

export interface Classification {
  intent: KeywordIntent;
  /** the keyword as matched (normalized), when one was */
  keyword: string | null;
  /** a person should look at it: review !== "NONE" */
  needsReview: boolean;
  review: ReviewMark;
  /** for a HELD message, the opt-out it would apply if it is a revocation after all */
  heldIntent: "OPT_OUT" | "OPT_OUT_ALL" | null;
  /** the language of the words that decided it (BCP 47, "en", "es"…), when they tell one */
  locale: string | null;
}

const classified = (
  intent: KeywordIntent,
  keyword: string | null,
  review: ReviewMark = "NONE",
  heldIntent: Classification["heldIntent"] = null,
  locale: string | null = null,
): Classification => ({
  intent,
  keyword,
  needsReview: review !== "NONE",
  review,
  heldIntent,
  locale,
});
const exact = (intent: KeywordIntent, keyword: string): Classification =>
  classified(intent, keyword);

/** Classifies a message for a sender whose live campaigns have these join keywords. */
export function classifyMessage(
  body: string,
  joinKeywords: readonly string[] = [],
): Classification {
  const text = keywordKey(body);
  if (OPT_OUT_ALL.has(text)) return exact("OPT_OUT_ALL", text);
  if (OPT_OUT.has(text)) return exact("OPT_OUT", text);
  if (HELP.has(text)) return exact("HELP", text);
  if (CONFIRM.has(text)) return exact("CONFIRM", text);
  if (OPT_IN.has(text)) return exact("OPT_IN", text);
  if (joinKeywords.some((k) => keywordKey(k) === text)) return exact("OPT_IN", text);

  // the words without the punctuation around them, so "STOP, please" starts with STOP
  const words = text
    .split(" ")
    .map((word) => word.replace(WORD_EDGES, ""))
    .filter((word) => word !== "");
  if (words.length > 1) {
    const candidates = [
      words[0],
      words.slice(0, 2).join(" "),
      words[words.length - 1],
      words.slice(-2).join(" "),
    ];
    const all = candidates.find((candidate) => OPT_OUT_ALL.has(candidate));
    const one = all ? undefined : candidates.find((candidate) => OPT_OUT.has(candidate));
    const found = all ?? one;
    if (found) {
      const intent = all ? "OPT_OUT_ALL" : "OPT_OUT";
      if (readsAsNoRevocation(body, words, found)) {
        return classified("UNKNOWN", found, "HELD", intent);
      }
      return classified(intent, found, "APPLIED");
    }
  }
  if (REVOCATION_PHRASES.some((phrase) => phrase.test(text))) {
    return classified("OPT_OUT", null, "APPLIED");
  }
  return classified("UNKNOWN", null);
}

const NEGATIONS = new Set(["DON'T", "DONT", "NOT", "NEVER"]);

/**
 * A stop-gap until the classifier reads questions and negation (issue 17): an opt-out keyword at
 * the start or end of a question ("end of season sale?") or right after a negation ("don't stop")
 * is held for review instead of applied.
 */
function readsAsNoRevocation(body: string, words: readonly string[], keyword: string): boolean {
  if (/\?[\s\p{Extended_Pictographic}\u200d\ufe0f]*$/u.test(body)) return true;
  const first = keyword.split(" ")[0];
  return words.some((word, i) => word === first && i > 0 && NEGATIONS.has(words[i - 1]));
}
