// How an inbound text is read before its words are classified: invisible format characters
// removed, compatibility forms folded, mail-client signatures and quoted replies cut off, accents
// and typographic apostrophes made plain, the text split into clauses of words, and each word's
// UTS #39 skeleton so that look-alike letters from other scripts read as the Latin ones.
//
// The skeleton comes from unhomoglyph (nodeca, MIT, no dependencies): it is generated from
// Unicode's own confusables.txt (the UTS #39 data) and kept up to date by the markdown-it
// maintainers, where the other npm packages either ship a partial hand-made table (confusables,
// homoglyph-search) or a native binary that also rewrites leetspeak and emoji (decancer).
import unhomoglyph from "unhomoglyph";

/**
 * Every format character (`\p{Cf}`: zero-width space and joiner, soft hyphen, word joiner, bidi
 * marks, tag characters…), wherever it is: they change nothing a person reads.
 */
const FORMAT = /\p{Cf}/gu;
/** Variation selectors (emoji presentation) are marks, not letters. */
const VARIATION = /[\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;

/** Invisible characters removed and compatibility forms (fullwidth, ligatures) folded. */
export const visibleText = (body: string) =>
  body.replace(FORMAT, "").replace(VARIATION, "").normalize("NFKC");

/**
 * Where a mail client's or phone's signature, or a quoted earlier message, starts: a "--" line,
 * "Sent from my …", "Get Outlook for …" (and their usual translations), "On … wrote:", ">" lines.
 * Nothing after it is the subscriber's own words (a quoted "Reply STOP to cancel" is not a STOP).
 */
const SIGNATURE_START = new RegExp(
  [
    String.raw`^[ \t]*(--+|__+)[ \t]*$`,
    String.raw`^[ \t]*>`,
    String.raw`^[ \t]*On .{0,200}\bwrote:`,
    String.raw`(^|\s)[-–—]{2}\s`,
    String.raw`(^|[\s.!?])(Sent (from|with|via) (my|Yahoo|Mail|Outlook|AOL|Samsung|iPhone|iPad|Android|BlackBerry|the)\b|Get Outlook for\b|Envoyé de mon\b|Enviado (desde|do|de) (mi|meu|o)\b|Von meinem\b|Gesendet (von|mit)\b|Отправлено с\b|发自我的)`,
  ].join("|"),
  "imu",
);

/** The subscriber's own words: everything before a signature or a quoted message. */
export function ownWords(text: string): string {
  const start = SIGNATURE_START.exec(text);
  return start ? text.slice(0, start.index) : text;
}

/** Upper case, accent-free, with the typographic apostrophes phones type as the ASCII one. */
export const plain = (text: string) =>
  text
    .toUpperCase()
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/gu, "'")
    .normalize("NFC");

/**
 * The UTS #39 skeleton of a plain word: each character replaced by its confusables prototype
 * (Cyrillic С, Т, О, Р and Greek Ο read as Latin C, T, O, P; the digit 0 as O), accents dropped.
 */
export function skeleton(word: string): string {
  if (/^[A-Z ']*$/.test(word)) return word.replace(/I/g, "L");
  let found = skeletons.get(word);
  if (found === undefined) {
    found = plain(unhomoglyph(word.normalize("NFD")))
      .normalize("NFD")
      .replace(/\p{M}/gu, "");
    // unhomoglyph runs one large regular expression: remember the words seen (bounded)
    if (skeletons.size >= 10_000) skeletons.clear();
    skeletons.set(word, found);
  }
  return found;
}
const skeletons = new Map<string, string>();

/** Punctuation, symbols and emoji at either end of a word ("STOP," "STOP!!" "🛑"). */
const EDGES =
  /^[\p{P}\p{S}\p{Extended_Pictographic}\u200d]+|[\p{P}\p{S}\p{Extended_Pictographic}\u200d]+$/gu;
/**
 * Whether a vocabulary has a word, as written (НЕ, Russian "not") or, for a word typed in another
 * script's look-alike letters (ОК), as the Latin word its skeleton spells.
 */
export function inVocabulary(vocabulary: ReadonlySet<string>, word: string): boolean {
  if (vocabulary.has(word)) return true;
  if (/^[\x00-\x7f]*$/.test(word)) return false;
  return vocabulary.has(skeleton(word));
}
const SPELLED = /^(\p{L}[.\-_*])+\p{L}$/u;
/** French elisions split off their word: L'ARRET, N'ARRETEZ, M'ENVOYER. */
const ELISION = /^(L|D|N|J|M|T|S|C|QU)'(\p{L}.*)$/u;

export interface Clause {
  /** the words, plain, without punctuation around them; hyphenated words split */
  words: string[];
  /** it ended with a question mark, or opened with ¿ */
  question: boolean;
}

/**
 * The clauses of a plain text: split at sentence punctuation, commas, colons, line breaks and
 * the conjunctions that start a new thought (but, pero, aber; not mais, Portuguese for more), each with its words.
 */
export function clausesOf(text: string): Clause[] {
  const clauses: Clause[] = [];
  // a delimiter: sentence punctuation before a space or the end (so S.T.O.P stays one word),
  // a line break, an opening ¿ or ¡, or a conjunction
  const pieces = text.split(/([.!?;:,…]+(?=\s|$)|[\n¿¡]|\s(?:BUT|PERO|ABER)\s)/u);
  let opensQuestion = false;
  for (let i = 0; i < pieces.length; i += 2) {
    const end = pieces[i + 1] ?? "";
    const words = wordsOf(pieces[i]);
    if (words.length > 0) clauses.push({ words, question: opensQuestion || end.includes("?") });
    if (words.length > 0 || end !== "") opensQuestion = end === "¿";
  }
  return clauses;
}

/** The words of a plain text, without the punctuation and emoji around them. */
export function wordsOf(text: string): string[] {
  return text
    .split(/[\s/]+|(?<=\p{L})[-_](?=\p{L}{2})/u)
    .flatMap((word) => {
      const edged = word.replace(EDGES, "");
      // a word spelled out letter by letter with dots or dashes: S.T.O.P
      const bare = SPELLED.test(edged) ? edged.replace(/[^\p{L}]/gu, "") : edged;
      const elided = ELISION.exec(bare);
      return elided ? [`${elided[1]}'`, elided[2]] : [bare];
    })
    .filter((word) => /[\p{L}\p{N}]/u.test(word));
}
