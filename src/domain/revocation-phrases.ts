// Revocation in other words: phrases that reasonably express "stop messaging me" without an
// opt-out keyword (FCC 24-24: any reasonable means). Each is matched on the plain words of one
// clause, so "take me to the checkout" or "never got a text about my order" do not match, and a
// phrase that is negated ("I don't want you to take me off the list") or asked about ("why did you
// take me off the list?") is no revocation. Requests put as questions ("can you take me off your
// list?") are.
import { COURTESY, NEGATORS } from "./keyword-lexicon.ts";
import { clausesOf, inVocabulary } from "./message-text.ts";

interface Phrase {
  pattern: RegExp;
  locale: string;
  /** the phrase says its own negation (don't text me): no negation check before it */
  negative?: boolean;
}

const MSGS = "(TEXTS?|MESSAGES?|SMS|MSGS?|TXTS?|ALERTS|NOTIFICATIONS|PROMOS|PROMOTIONS|ADS|SPAM)";
const LEAD = "((OK|OKAY|PLEASE|PLS|PLZ|JUST|SO|AND|NOW|HEY|HI|SERIOUSLY|KINDLY) )*";
/** A phrase between spaces; one that starts with ^ must open its clause (after courtesy words). */
const p = (source: string, locale: string, negative = false): Phrase => ({
  pattern: source.startsWith("^")
    ? new RegExp(`^ ${LEAD}${source.slice(1)} `)
    : new RegExp(` ${source} `),
  locale,
  negative,
});

const PHRASES: readonly Phrase[] = [
  p("(TAKE|GET|PUT|KEEP) ME (OFF|OUT OF)", "en"),
  p("OPT ME OUT", "en"),
  p("LEAVE ME ALONE", "en"),
  p("WRONG (NUMBER|PERSON|#)", "en"),
  p("NOT INTERESTED(?! IN )", "en", true),
  p(`NO MORE ${MSGS}`, "en", true),
  p(`NO LONGER (WANT|WISH|NEED|INTERESTED|WISH TO RECEIVE|WANT TO RECEIVE)`, "en", true),
  p(
    "^(DON'T|DONT|DO NOT|NEVER) (EVER )?(TEXT|TXT|MESSAGE|MSG|SMS|CONTACT|CALL|EMAIL|BOTHER|SPAM)( (ME|US|THIS NUMBER|AGAIN|ANYMORE))?",
    "en",
    true,
  ),
  p("^(DON'T|DONT|DO NOT|NEVER) (EVER )?SEND (ME|US|THIS NUMBER)", "en", true),
  p(
    `(DON'T|DONT|DO NOT) WANT (ANY |ANY MORE |ANYMORE |THESE |THOSE |YOUR |THE |TO (GET|RECEIVE) (ANY )?(MORE )?(OF )?(THESE |YOUR |THE )?)?(MORE )?${MSGS}`,
    "en",
    true,
  ),
  p(
    "(CAN|COULD|WOULD|WILL) (YOU|U) (PLEASE )?(NOT|NEVER) (TEXT|TXT|MESSAGE|MSG|CONTACT|SMS|CALL)",
    "en",
    true,
  ),
  p("(GO AWAY|FUCK OFF|F\\*CK OFF|F\\*\\*K OFF|PISS OFF|BUZZ OFF|BACK OFF)", "en"),
  p("(WITHDRAW|RESCIND|RETRACT) (MY )?CONSENT", "en"),
  p("(I )?(DO NOT|DON'T|DONT) CONSENT", "en", true),
  p("CEASE (AND DESIST|ALL|TEXTING|CONTACT|CONTACTING|MESSAGING|SENDING)", "en"),
  p("(DELETE|ERASE|LOSE) (MY|THIS) (PHONE )?(NUMBER|INFO|INFORMATION|DATA|CONTACT)", "en"),
  p("UNSUB", "en"),
  p("(ADD|PUT) ME (TO|ON) (YOUR |THE )?DO NOT (CALL|TEXT|CONTACT)", "en"),
  p("NO ME (ENVIEN|MANDEN|ESCRIBAN|CONTACTEN|ENVIES|MANDES|ESCRIBAS|MOLESTEN)", "es", true),
  p("(DEJEN|DEJA|DEJAR|DEJE|PAREN|PARA) DE (ENVIAR|MANDAR|ESCRIBIR|MOLESTAR|CONTACTAR)\\S*", "es"),
  p("DE BAJA", "es"),
  p(`(YA )?NO QUIERO (RECIBIR )?(MAS )?(MENSAJES|TEXTOS|SMS|NADA)`, "es", true),
  p("NUMERO EQUIVOCADO", "es"),
  p("(SACARME|QUITARME|ELIMINARME|BORRARME|SAQUENME|QUITENME|ELIMINENME|BORRENME)", "es"),
  p("(ELIMINEN|BORREN|QUITEN|ELIMINAR|BORRAR) MI NUMERO", "es"),
  p("NE (M' )?(ENVOYEZ|ECRIVEZ|CONTACTEZ) PLUS", "fr", true),
  p("NE VEUX PLUS (RECEVOIR|DE|D')", "fr", true),
  p("(DESINSCRIRE|DESINSCRIVEZ|DESINSCRIPTION|DESABONNEMENT|DESABONNEZ)", "fr"),
  p("(PARE|PAREM|PARA) DE (ME )?(ENVIAR|MANDAR)\\S*", "pt"),
  p("NAO (QUERO|DESEJO) (MAIS )?(RECEBER )?(MAIS )?(MENSAGENS|SMS|NADA)", "pt", true),
  p("QUERO SAIR", "pt"),
  p("(ME )?(TIRE|TIREM|REMOVA|REMOVAM) (DA LISTA|MEU NUMERO)", "pt"),
  p("DESCADASTRAR", "pt"),
  p("KEINE (WEITEREN )?(SMS|NACHRICHTEN|WERBUNG)", "de", true),
  p("(ABMELDEN|ABBESTELLEN)", "de"),
  p("(ОТПИСАТЬСЯ|ОТПИШИТЕ|ОТПИСКА)", "ru"),
  p("取消订阅", "zh"),
];

/** Requests put as questions: "can you…", "how do I…", "¿cómo me doy de baja?", "comment…". */
const REQUEST =
  /^ (PLEASE )?((CAN|COULD|WOULD|WILL) (YOU|U|Y'ALL|YALL)|HOW (DO|CAN) (I|WE)|HOW TO|COMO|COMMENT) /;

/** The first revocation phrase in a text (plain, upper case), with its language. */
export function revocationPhrase(text: string): { locale: string } | null {
  for (const clause of clausesOf(text)) {
    const line = ` ${clause.words.join(" ")} `;
    for (const phrase of PHRASES) {
      const match = phrase.pattern.exec(line);
      if (!match) continue;
      const before = line.slice(0, match.index).trim().split(" ").filter(Boolean);
      if (!phrase.negative && before.slice(-5).some((w) => inVocabulary(NEGATORS, w))) continue;
      const onlyCourtesy =
        clause.words.length <= 3 || before.every((w) => inVocabulary(COURTESY, w));
      if (clause.question && !onlyCourtesy && !REQUEST.test(line)) continue;
      return { locale: phrase.locale };
    }
  }
  return null;
}
