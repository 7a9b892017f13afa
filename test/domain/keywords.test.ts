// The keyword engine's whole-message keywords (src/domain/keywords.ts, docs/COMPLIANCE.md
// "Keywords"): every spelling of a bare keyword is that keyword with no review; join keywords
// and opt-ins are exact; reserved words. Messages as people really send them (invisible
// characters, look-alikes, signatures, sentences, languages, misspellings, negations, questions)
// are in keyword-corpus.test.ts.
//
// The keyword lists below are written out here on purpose, from COMPLIANCE.md, not imported from
// the code under test: a keyword dropped from the engine must fail these tests.
import fc from "fast-check";
import unhomoglyph from "unhomoglyph";
import { describe, expect, it } from "vitest";
import {
  classifyMessage,
  isReservedKeyword,
  normalizeMessage,
  type Classification,
  type KeywordIntent,
} from "../../src/domain/keywords.ts";
import { plain, skeleton } from "../../src/domain/message-text.ts";

const JOIN = ["JOIN", "DEALS", "CAFÉ"];

type Row = [body: string, intent: KeywordIntent, keyword: string | null, needsReview: boolean];

/** Upper-case fullwidth forms (ＳＴＯＰ), which NFKC folds back to ASCII. */
const fullwidth = (text: string) =>
  [...text]
    .map((c) =>
      c === " "
        ? "\u3000"
        : c >= "!" && c <= "~"
          ? String.fromCodePoint(c.codePointAt(0)! - 0x21 + 0xff01)
          : c,
    )
    .join("");

const title = (text: string) =>
  text
    .toLowerCase()
    .replace(/(^|[\s-])(\p{L})/gu, (_m, sep: string, c: string) => sep + c.toUpperCase());
const alternating = (text: string) =>
  [...text.toLowerCase()].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join("");

/**
 * Every way people send a bare keyword: upper, lower, mixed, punctuation around it, spaces,
 * emoji, fullwidth. Each is the keyword itself: exact, no review.
 */
function spellings(keyword: string, intent: KeywordIntent, matched: string): Row[] {
  const forms = [
    keyword.toUpperCase(),
    keyword.toLowerCase(),
    title(keyword),
    alternating(keyword),
    `  ${keyword.toLowerCase()}. `,
    `${title(keyword)}!!!`,
    `"${keyword}"`,
    `${keyword} 🛑`,
    `👍${keyword.toLowerCase()}🙏`,
    `\t${keyword}\n`,
    fullwidth(keyword),
  ];
  return [...new Set(forms)].map((body): Row => [body, intent, matched, false]);
}

const OPT_OUT: [string, string][] = [
  ["STOP", "STOP"],
  ["UNSUBSCRIBE", "UNSUBSCRIBE"],
  ["CANCEL", "CANCEL"],
  ["END", "END"],
  ["QUIT", "QUIT"],
  ["REVOKE", "REVOKE"],
  ["OPTOUT", "OPTOUT"],
  ["OPT OUT", "OPT OUT"],
  ["OPT-OUT", "OPT OUT"],
  ["PARAR", "PARAR"],
  ["ALTO", "ALTO"],
  ["DETENER", "DETENER"],
  ["CANCELAR", "CANCELAR"],
  ["ARRET", "ARRET"],
  ["ARRÊT", "ARRET"],
  ["REMOVE", "REMOVE"],
  ["TD", "TD"],
  ["BAJA", "BAJA"],
  ["NO MÁS", "NO MAS"],
  ["BASTA", "BASTA"],
  ["ARRÊTER", "ARRETER"],
  ["DÉSABONNER", "DESABONNER"],
  ["SAIR", "SAIR"],
  ["PARE", "PARE"],
  ["STOPP", "STOPP"],
  ["СТОП", "СТОП"],
];
const OPT_OUT_ALL: [string, string][] = [
  ["STOPALL", "STOPALL"],
  ["STOP ALL", "STOP ALL"],
];
const OPT_IN = ["START", "UNSTOP"];
const CONFIRM = ["YES", "Y"];
const HELP = ["HELP", "INFO", "AYUDA"];

const keywordRows: Row[] = [
  ...OPT_OUT.flatMap(([k, m]) => spellings(k, "OPT_OUT", m)),
  ...OPT_OUT_ALL.flatMap(([k, m]) => spellings(k, "OPT_OUT_ALL", m)),
  ...OPT_IN.flatMap((k) => spellings(k, "OPT_IN", k)),
  ...CONFIRM.flatMap((k) => spellings(k, "CONFIRM", k)),
  ...HELP.flatMap((k) => spellings(k, "HELP", k)),
];

/** The brief's own examples, and other hand-written bare-keyword spellings. */
const handWritten: Row[] = [
  ["STOP 🛑", "OPT_OUT", "STOP", false],
  ["  stop. ", "OPT_OUT", "STOP", false],
  ["Stop!!!", "OPT_OUT", "STOP", false],
  ["stop?", "OPT_OUT", "STOP", false],
  ["⛔️ STOP ⛔️", "OPT_OUT", "STOP", false],
  ["STOP\u200d", "OPT_OUT", "STOP", false],
  ["¡ALTO!", "OPT_OUT", "ALTO", false],
  ["¡¡Parar!!", "OPT_OUT", "PARAR", false],
  ["dÉtener", "OPT_OUT", "DETENER", false],
  ["arrêt", "OPT_OUT", "ARRET", false],
  ["ARRET", "OPT_OUT", "ARRET", false],
  ["Arrêt.", "OPT_OUT", "ARRET", false],
  ["ＳＴＯＰ", "OPT_OUT", "STOP", false],
  ["ｓｔｏｐ", "OPT_OUT", "STOP", false],
  ["opt-out", "OPT_OUT", "OPT OUT", false],
  ["退订", "OPT_OUT", "退订", false],
  ["Opt Out", "OPT_OUT", "OPT OUT", false],
  ["OPT     OUT", "OPT_OUT", "OPT OUT", false],
  ["opt\tout", "OPT_OUT", "OPT OUT", false],
  ["Unsubscribe.", "OPT_OUT", "UNSUBSCRIBE", false],
  ["(cancel)", "OPT_OUT", "CANCEL", false],
  ["stop all", "OPT_OUT_ALL", "STOP ALL", false],
  ["Stop   All!", "OPT_OUT_ALL", "STOP ALL", false],
  ["Y.", "CONFIRM", "Y", false],
  ["Yes 👍", "CONFIRM", "YES", false],
  ["👍 yes", "CONFIRM", "YES", false],
  ["ＹＥＳ", "CONFIRM", "YES", false],
  ["HELP?", "HELP", "HELP", false],
  ["ＨＥＬＰ", "HELP", "HELP", false],
  ["¿Ayuda?", "HELP", "AYUDA", false],
];

/** Join keywords of the sender's campaigns (JOIN, DEALS, CAFÉ): exact only, accents optional. */
const joinRows: Row[] = [
  ["JOIN", "OPT_IN", "JOIN", false],
  ["join", "OPT_IN", "JOIN", false],
  ["Join!", "OPT_IN", "JOIN", false],
  ["  deals 🎉 ", "OPT_IN", "DEALS", false],
  ["ＤＥＡＬＳ", "OPT_IN", "DEALS", false],
  ["café", "OPT_IN", "CAFE", false],
  ["CAFE", "OPT_IN", "CAFE", false],
  // opt-ins are never guessed
  ["join us", "UNKNOWN", null, false],
  ["I want to join", "UNKNOWN", null, false],
  ["DEALS?? what deals", "UNKNOWN", null, false],
  ["joined", "UNKNOWN", null, false],
];

/** Near misses of opt-ins and help: never guessed. */
const nearMisses: Row[] = [
  ["Yes please", "UNKNOWN", null, false],
  ["yep", "UNKNOWN", null, false],
  ["YESS", "UNKNOWN", null, false],
  ["Startup news", "UNKNOWN", null, false],
  ["started", "UNKNOWN", null, false],
  ["Helpful", "UNKNOWN", null, false],
  ["help me", "UNKNOWN", null, false],
  ["I need help with my order", "UNKNOWN", null, false],
  ["info please", "UNKNOWN", null, false],
];

const table: Row[] = [...keywordRows, ...handWritten, ...joinRows, ...nearMisses];

describe("classifyMessage", () => {
  it("covers at least 150 distinct messages", () => {
    expect(new Set(table.map(([body]) => body)).size).toBeGreaterThanOrEqual(150);
  });

  it.each(table)("%j → %s %s review=%s", (body, intent, keyword, needsReview) => {
    expect(classifyMessage(body, JOIN)).toMatchObject<Partial<Classification>>({
      intent,
      keyword,
      needsReview,
    });
  });

  it("recognizes a join keyword only when a campaign of the sender has it", () => {
    expect(classifyMessage("JOIN")).toMatchObject({
      intent: "UNKNOWN",
      keyword: null,
      needsReview: false,
    });
    expect(classifyMessage("JOIN", ["DEALS"]).intent).toBe("UNKNOWN");
    expect(classifyMessage("join", ["join"])).toMatchObject({
      intent: "OPT_IN",
      keyword: "JOIN",
      needsReview: false,
    });
  });

  it("keeps fixed meanings ahead of any join keyword", () => {
    for (const [word, intent] of [
      ["STOP", "OPT_OUT"],
      ["STOPALL", "OPT_OUT_ALL"],
      ["HELP", "HELP"],
      ["YES", "CONFIRM"],
      ["START", "OPT_IN"],
    ] as const) {
      const result = classifyMessage(word, [word]);
      expect(result.intent).toBe(intent);
      expect(result.keyword).toBe(word);
    }
  });
});

describe("normalizeMessage", () => {
  it.each([
    ["STOP", "STOP"],
    ["stop", "STOP"],
    ["  stop. ", "STOP"],
    ["Stop!!!", "STOP"],
    ["STOP 🛑", "STOP"],
    ["👩‍👩‍👧 stop 👩‍👩‍👧", "STOP"],
    ["⛔️STOP⛔️", "STOP"],
    ["¡ALTO!", "ALTO"],
    ["¿Ayuda?", "AYUDA"],
    ["ＳＴＯＰ", "STOP"],
    ["ＯＰＴ\u3000ＯＵＴ", "OPT OUT"],
    ["arrêt", "ARRÊT"],
    ["Opt   Out", "OPT OUT"],
    ["opt\t\nout", "OPT OUT"],
    ["opt-out", "OPT-OUT"],
    ["(opt-out)", "OPT-OUT"],
    ["don't text me.", "DON'T TEXT ME"],
    ["please, stop!", "PLEASE, STOP"],
    ["STOP 🛑 please", "STOP 🛑 PLEASE"],
    ["\u00a0stop\u00a0", "STOP"],
    ["\u200bst\u00adop\u2060", "STOP"],
    ["\u202estop\u202c", "STOP"],
    ["ﬁnish", "FINISH"],
    ["", ""],
    ["   ", ""],
    ["!!!", ""],
    ["🛑", ""],
  ])("%j → %j", (body, normalized) => {
    expect(normalizeMessage(body)).toBe(normalized);
  });
});

describe("isReservedKeyword", () => {
  it.each([
    "STOP",
    "stop",
    " Stop! ",
    "STOPALL",
    "stop all",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "opt out",
    "OPT-OUT",
    "PARAR",
    "ALTO",
    "DETENER",
    "CANCELAR",
    "ARRET",
    "arrêt",
    "START",
    "UNSTOP",
    "YES",
    "y",
    "HELP",
    "INFO",
    "AYUDA",
    "ＨＥＬＰ",
    "REMOVE",
    "TD",
    "BAJA",
    "STOPP",
    "退订",
    "СТОП",
    "SТОР",
  ])("%j is reserved", (word) => {
    expect(isReservedKeyword(word)).toBe(true);
  });

  it.each(["JOIN", "DEALS", "CAFÉ", "STOPWATCH", "HELPFUL", "NO", "STARTUP", "YESS", "OPT", ""])(
    "%j is free for campaigns",
    (word) => {
      expect(isReservedKeyword(word)).toBe(false);
    },
  );
});

describe("skeleton", () => {
  const byTheData = (word: string) =>
    plain(unhomoglyph(word.normalize("NFD")))
      .normalize("NFD")
      .replace(/\p{M}/gu, "");

  it("is the confusables data's skeleton, also on its shortcut for plain Latin words", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z ']{0,20}$/), (word) => {
        expect(skeleton(word)).toBe(byTheData(word));
      }),
    );
    for (const word of ["SТОР", "ЅТОР", "STΟP", "ST0P", "QUӀT"]) {
      expect(skeleton(word)).toBe(byTheData(word));
      expect(skeleton(word)).toBe(skeleton(word.replace(/0/g, "O")));
    }
    expect(skeleton("SТОР")).toBe(skeleton("STOP"));
    expect(skeleton("СТОП")).not.toBe(skeleton("STOP"));
  });
});
