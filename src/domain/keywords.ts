// The keyword engine: reads an inbound message the way people text (src/domain/message-text.ts:
// invisible characters, look-alike letters, signatures, several sentences) and classifies it.
//
// The rule, because a missed revocation is a TCPA claim and a false opt-out loses a subscriber:
// 1. A whole message that is a keyword means that keyword: STOP, STOPALL, START, YES, HELP, a
//    campaign's join keyword, and the opt-outs of the other languages (keyword-lexicon.ts), as
//    written or through its UTS #39 skeleton (SТОР in Cyrillic letters is STOP; СТОП, Russian, is
//    СТОП), with or without accents, signatures, stretched letters (STOOOP) or repeats (STOP
//    STOP). Opt-outs: intent OPT_OUT/OPT_OUT_ALL, review NONE. Opt-ins are never guessed.
// 2. Otherwise each clause (a sentence, or a part split at a comma or "but") is read. An opt-out
//    keyword standing as its own word is:
//    - HELD (intent UNKNOWN, heldIntent set: nothing changes, a person decides) when it reads as
//      no revocation: a noun or a mention ("the end", "bus stop", "reply STOP"), a verb with
//      another object ("cancel my order", "stop by", "end of season"), negated ("don't stop",
//      "I can't stop smiling", "no cancelar"), in a condition ("if I stop"), or in a question that
//      is no request ("when does the sale end?");
//    - a revocation otherwise, including requests put as questions ("can you stop texting me?",
//      "how do I unsubscribe?", "why won't you stop?"). It is unmistakable (review NONE) when its
//      clause holds nothing but the keyword, courtesy words and what it stops ("ok STOP thanks",
//      "STOP texting me", "unsubscribe me please", "cancel my subscription"); otherwise (review
//      APPLIED: applied at once, marked for review) ("I want to stop", "I revoke my consent").
//    Words with everyday meanings (ALTO, BAJA, BASTA, PARE, SAIR, TD) count only as a clause of
//    their own.
// 3. Revocation in other words ("take me off your list", "don't text me", "wrong number", "dejen
//    de enviarme mensajes", "darme de baja"), and a whole message one typing slip away from a
//    long-enough opt-out keyword (UNSUSCRIBE, STPO), or spelled out (S T O P): OPT_OUT, APPLIED.
// A revocation anywhere wins over a held word elsewhere; a held word over nothing.
import {
  ALL_ENTRIES,
  CLAUSE_OPENERS,
  CONFIRM_ENTRIES,
  COURTESY,
  HELP_ENTRIES,
  INTERROGATIVES,
  MESSAGING,
  NEGATORS,
  NO_NEGATES,
  NOUN_MARKERS,
  OPT_IN_ENTRIES,
  OPT_OUT_ALL_ENTRIES,
  OPT_OUT_ENTRIES,
  SUBORDINATORS,
  type KeywordEntry,
  type KeywordIntent,
} from "./keyword-lexicon.ts";
import {
  clausesOf,
  inVocabulary,
  ownWords,
  plain,
  skeleton,
  visibleText,
  wordsOf,
} from "./message-text.ts";
import { revocationPhrase } from "./revocation-phrases.ts";

export type { KeywordIntent } from "./keyword-lexicon.ts";

const forms = (entries: readonly KeywordEntry[]) => entries.map((e) => e.form);
export const OPT_OUT_KEYWORDS = forms(OPT_OUT_ENTRIES);
export const OPT_OUT_ALL_KEYWORDS = forms(OPT_OUT_ALL_ENTRIES);
export const OPT_IN_KEYWORDS = forms(OPT_IN_ENTRIES);
export const CONFIRM_KEYWORDS = forms(CONFIRM_ENTRIES);
export const HELP_KEYWORDS = forms(HELP_ENTRIES);

/** Invisible characters removed, NFKC, upper case, punctuation and emoji around, spaces collapsed. */
export function normalizeMessage(body: string): string {
  return visibleText(body)
    .toUpperCase()
    .replace(/^[\s\p{P}\p{S}\p{Extended_Pictographic}]+/u, "")
    .replace(/[\s\p{P}\p{S}\p{Extended_Pictographic}]+$/u, "")
    .replace(/\s+/gu, " ");
}

/** A keyword as it is matched: normalized and plain (campaign keywords are stored normalized). */
export const keywordKey = (word: string) => plain(normalizeMessage(word));

/** The words of a message as one key: "opt-out", "Opt  Out!" and "OPT OUT" are one. */
const wordKey = (text: string) => wordsOf(plain(visibleText(text))).join(" ");

const byKey = new Map(ALL_ENTRIES.map((e) => [e.keyword, e]));
const bySkeleton = new Map(
  ALL_ENTRIES.filter((e) => /^[A-Z ]+$/.test(e.keyword)).map((e) => [skeleton(e.keyword), e]),
);
const OPT_OUTS = new Set([...OPT_OUT_ENTRIES, ...OPT_OUT_ALL_ENTRIES]);

/** The keyword a word (or words) is, as written or as its skeleton. */
function lookup(key: string): KeywordEntry | undefined {
  return byKey.get(key) ?? bySkeleton.get(skeleton(key));
}

/** The plain forms of every keyword with a fixed meaning. */
export const RESERVED_KEYWORDS: ReadonlySet<string> = new Set(byKey.keys());

/** START or UNSTOP (as classified): the subscriber asks back what it stopped. */
export const isResubscribeKeyword = (keyword: string | null) =>
  keyword !== null && OPT_IN_ENTRIES.some((e) => e.keyword === keyword);

/** Whether a word has a fixed meaning (also in look-alike letters), so no campaign may claim it. */
export const isReservedKeyword = (word: string) => {
  const key = wordKey(word);
  return key !== "" && lookup(key) !== undefined;
};

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
const optOut = (e: KeywordEntry, review: ReviewMark) =>
  classified(e.intent, e.keyword, review, null, e.locale);
const held = (e: KeywordEntry) =>
  classified("UNKNOWN", e.keyword, "HELD", e.intent as "OPT_OUT" | "OPT_OUT_ALL", e.locale);

/** How an opt-out keyword reads in its clause. */
type Reading = "BARE" | "REVOKES" | "HELD";

interface Occurrence {
  entry: KeywordEntry;
  reading: Reading;
}

/** Classifies a message for a sender whose live campaigns have these join keywords. */
export function classifyMessage(
  body: string,
  joinKeywords: readonly string[] = [],
): Classification {
  const text = plain(ownWords(visibleText(body)));
  const words = wordsOf(text);
  const whole = wholeMessage(words, joinKeywords);
  if (whole) return whole;

  const occurrences = clausesOf(text).flatMap(readClause);
  const han = readHan(text);
  if (han) occurrences.push(han);
  const best = (reading: Reading) => {
    const found = occurrences.filter((o) => o.reading === reading);
    return found.find((o) => o.entry.intent === "OPT_OUT_ALL") ?? found[0];
  };
  const bare = best("BARE");
  if (bare) return optOut(bare.entry, "NONE");
  const revokes = best("REVOKES");
  if (revokes) return optOut(revokes.entry, "APPLIED");
  const phrase = revocationPhrase(text);
  if (phrase) return classified("OPT_OUT", null, "APPLIED", null, phrase.locale);
  const slip = typingSlip(words);
  if (slip) return optOut(slip, "APPLIED");
  const holding = best("HELD");
  if (holding) return held(holding.entry);
  return classified("UNKNOWN", null);
}

/** The whole message as one keyword: itself, repeated, or with stretched letters. */
function wholeMessage(words: string[], joinKeywords: readonly string[]): Classification | null {
  if (words.length === 0) return null;
  const key = words.join(" ");
  const entry = lookup(key);
  if (entry) {
    return OPT_OUTS.has(entry)
      ? optOut(entry, "NONE")
      : classified(entry.intent, entry.keyword, "NONE", null, entry.locale);
  }
  if (joinKeywords.some((k) => keywordKey(k) === key)) return classified("OPT_IN", key);
  // STOP STOP STOP, STOOOP, STOP!!! STOP: one opt-out keyword, nothing else
  const each = words.map((w) => lookup(w) ?? stretched(w));
  const first = each[0];
  if (first && OPT_OUTS.has(first) && each.every((e) => e === first)) return optOut(first, "NONE");
  return null;
}

/** A word with a letter typed three times or more (STOOOP, CANCELLLL) read as the keyword. */
function stretched(word: string): KeywordEntry | undefined {
  if (!/(\p{L})\1\1/u.test(word)) return undefined;
  const squeeze = (w: string) => w.replace(/(\p{L})\1+/gu, "$1");
  const squeezed = squeeze(word);
  return [...OPT_OUTS].find((e) => !e.keyword.includes(" ") && squeeze(e.keyword) === squeezed);
}

/** The opt-out keywords in a clause, each read in its context. */
function readClause(clause: { words: string[]; question: boolean }): Occurrence[] {
  const { words } = clause;
  const spans: { start: number; end: number; entry: KeywordEntry }[] = [];
  for (let i = 0; i < words.length; i++) {
    for (const n of [2, 1]) {
      if (i + n > words.length) continue;
      const entry =
        lookup(words.slice(i, i + n).join(" ")) ?? (n === 1 ? stretched(words[i]) : undefined);
      if (entry && OPT_OUTS.has(entry)) {
        spans.push({ start: i, end: i + n, entry });
        i += n - 1;
        break;
      }
    }
  }
  const inKeyword = (i: number) => spans.some((s) => i >= s.start && i < s.end);
  return spans.flatMap(({ start, end, entry }) => {
    const before = words.slice(0, start).filter((_, i) => !inKeyword(i));
    const after = words.slice(end).filter((_, i) => !inKeyword(end + i));
    const reading = readOccurrence(entry, before, after, clause.question);
    if (entry.bareOnly && reading !== "BARE") return [];
    return [{ entry, reading }];
  });
}

/** Words between a keyword and what it stops: determiners, prepositions, "getting", "receiving". */
const DETERMINERS = new Set(
  "GETTING RECEIVING GET RECEIVE RECIBIR RECEVOIR RECEBER MY YOUR THE THIS THESE THAT THOSE ANY ALL EVERY FROM TO ON OF OFF WITH OUT MI MIS TU TUS SU SUS EL LA LOS LAS DE D' M' DES LES MES VOS MEU MINHA DA DO DOS".split(
    " ",
  ),
);

/** What follows a keyword: nothing, what it stops, or another object (a verb in another sense). */
function objectOf(after: string[]): "NONE" | "MESSAGING" | "OTHER" {
  const rest = after.filter((w) => !inVocabulary(COURTESY, w));
  if (rest.length === 0) return "NONE";
  const content = rest.filter((w) => !inVocabulary(DETERMINERS, w));
  if (content.length === 0) return "MESSAGING";
  if (inVocabulary(CLAUSE_OPENERS, content[0])) return "MESSAGING";
  // the object's head, or one word after a word that qualifies it ("these annoying messages",
  // "stop f*cking texting me"); "end of season sale" names no message
  return content.slice(0, 2).some((w) => inVocabulary(MESSAGING, w)) ? "MESSAGING" : "OTHER";
}

const first = (words: string[], n: number) =>
  words
    .filter((w) => !inVocabulary(COURTESY, w) || w === "NO")
    .slice(0, n)
    .join(" ");

/** A question that asks for the stop: "can you stop…", "how do I unsubscribe", "why won't you stop". */
const REQUEST =
  /^(CAN|COULD|WOULD|WILL|CAN'T|CANT|WON'T|WONT) (YOU|U|Y'ALL|YALL)|^HOW (DO|CAN|DOES|SHOULD) (I|WE)|^HOW TO|^(CAN|MAY|COULD) (I|WE)|^HOW MANY (MORE )?TIMES|^(COMO|COMMENT)\b/;
const RHETORICAL =
  /\bWHY (WON'T|WONT|DON'T|DONT|CAN'T|CANT|DIDN'T|DIDNT|HAVEN'T) (YOU|U)\b|^(CAN'T|CANT|WON'T|WONT) (YOU|U)\b/;
const FACT_QUESTION =
  /^(DID|DOES|DO|IS|ARE|WAS|WERE|HAS|HAVE|HAD|(WHEN|WHY|WHERE|WHAT) (DID|DOES|DO))\b/;

function readOccurrence(
  entry: KeywordEntry,
  before: string[],
  after: string[],
  question: boolean,
): Reading {
  const previous = before[before.length - 1];
  if (previous !== undefined && inVocabulary(NOUN_MARKERS, previous)) return "HELD";
  const object = objectOf(after);
  if (object === "OTHER") return "HELD";
  const opening = first(before, 4);
  if (RHETORICAL.test(opening)) return "REVOKES";
  const negated = before
    .slice(-5)
    .some(
      (w) =>
        inVocabulary(NEGATORS, w) ||
        (w === "NO" && entry.locale !== null && NO_NEGATES.has(entry.locale)),
    );
  if (negated) return "HELD";
  const lead = before.find((w) => !inVocabulary(COURTESY, w));
  if (!question && lead !== undefined && inVocabulary(SUBORDINATORS, lead)) return "HELD";
  // a clause of nothing but the keyword is no question, whatever follows it ("Stop?? Who is this")
  const alone = object === "NONE" && before.every((w) => inVocabulary(COURTESY, w));
  const asks = question || (lead !== undefined && inVocabulary(INTERROGATIVES, lead));
  if (asks && !alone) {
    if (REQUEST.test(opening)) return "REVOKES";
    if (object === "MESSAGING" && !FACT_QUESTION.test(opening)) return "REVOKES";
    return "HELD";
  }
  const bare = before.every(
    (w) => inVocabulary(COURTESY, w) || inVocabulary(MESSAGING, w) || inVocabulary(DETERMINERS, w),
  );
  return bare ? "BARE" : "REVOKES";
}

/** 退订 (Chinese has no spaces): negated (不, 别, 没, 勿) or asked (吗, ?) is held; else revokes. */
function readHan(text: string): Occurrence | null {
  const entry = OPT_OUT_ENTRIES.find((e) => e.locale === "zh")!;
  const at = text.indexOf(entry.keyword);
  if (at < 0) return null;
  if (/[不别別没沒勿无無]/u.test(text.slice(Math.max(0, at - 3), at))) {
    return { entry, reading: "HELD" };
  }
  if (/[吗嗎?？]/u.test(text) && !/(如何|怎么|怎麼|怎样)/u.test(text)) {
    return { entry, reading: "HELD" };
  }
  return { entry, reading: "REVOKES" };
}

/**
 * A whole message (courtesy words aside) one typing slip from an opt-out keyword: for keywords
 * of seven letters or more any one edit (UNSUSCRIBE, UNSUBSCRIBR); of six, a letter added, lost
 * or two swapped (CANCLE, not CANCER); of four or five, two letters swapped after the first (STPO,
 * SOTP, QUTI: never TOP, SHOP, SPOT, STEP). Never the keyword with an inflection (CANCELS,
 * REVOKED), a word with other meanings, or letters typed apart (S T O P, UN SUBSCRIBE).
 */
function typingSlip(words: string[]): KeywordEntry | undefined {
  const content = words.filter((w) => !inVocabulary(COURTESY, w));
  if (content.length === 0) return undefined;
  const joined = content.join("");
  const spelledApart = lookup(joined);
  if (content.length > 1 && spelledApart && OPT_OUTS.has(spelledApart)) return spelledApart;
  if (content.length !== 1 || lookup(joined)) return undefined;
  const word = content[0];
  return [...OPT_OUTS].find((e) => {
    const k = e.keyword;
    if (e.bareOnly || k.includes(" ") || !/^[A-Z]+$/.test(k)) return false;
    if (word.startsWith(k) && /^(S|D|R|ED|ER|ING|ES)$/.test(word.slice(k.length))) return false;
    if (k.length >= 7) return oneEdit(word, k, true);
    if (k.length === 6) return oneEdit(word, k, false);
    if (k.length >= 4) return word.length === k.length && swappedAfterFirst(word, k);
    return false;
  });
}

function swappedAfterFirst(word: string, k: string): boolean {
  for (let i = 1; i < k.length - 1; i++) {
    if (word === k.slice(0, i) + k[i + 1] + k[i] + k.slice(i + 2)) return true;
  }
  return false;
}

/** One insertion, deletion, adjacent transposition, or (when allowed) substitution apart. */
function oneEdit(word: string, k: string, substitution: boolean): boolean {
  if (word === k) return false;
  if (word.length === k.length) {
    const diff = [...k].flatMap((c, i) => (c === word[i] ? [] : [i]));
    if (diff.length === 1) return substitution;
    return (
      diff.length === 2 &&
      diff[1] === diff[0] + 1 &&
      word[diff[0]] === k[diff[1]] &&
      word[diff[1]] === k[diff[0]]
    );
  }
  const [long, short] = word.length > k.length ? [word, k] : [k, word];
  if (long.length - short.length !== 1) return false;
  for (let i = 0; i < long.length; i++) {
    if (long.slice(0, i) + long.slice(i + 1) === short) return true;
  }
  return false;
}
