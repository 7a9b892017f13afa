// The words the keyword engine knows, each with its language: the keywords with a fixed meaning
// (sources in docs/COMPLIANCE.md, "Keywords"), and the small vocabularies it reads their context
// with (courtesy words, what a revocation stops, negations, question openers).
import { plain } from "./message-text.ts";

export type KeywordIntent = "OPT_OUT" | "OPT_OUT_ALL" | "OPT_IN" | "CONFIRM" | "HELP" | "UNKNOWN";

export interface KeywordEntry {
  /** the keyword as written in the list (upper case) */
  form: string;
  /** the keyword it is reported as: the form, plain (accent-free) */
  keyword: string;
  intent: Exclude<KeywordIntent, "UNKNOWN">;
  /** its language; null for words used in many (STOP, INFO, Y, TD) */
  locale: string | null;
  /**
   * A word with other everyday meanings (ALTO "tall", BAJA "low", BASTA "enough", PARE, SAIR,
   * TD): a keyword only as a whole message (or a clause of its own), never held when inside
   * other words.
   */
  bareOnly?: boolean;
}

const entry = (
  intent: KeywordEntry["intent"],
  locale: string | null,
  forms: string,
  bareOnly = false,
): KeywordEntry[] =>
  forms.split("|").map((form) => ({
    form,
    keyword: form
      .normalize("NFD")
      .replace(/\p{M}/gu, "")
      .replace(/[\s-]+/g, " "),
    intent,
    locale,
    ...(bareOnly ? { bareOnly } : {}),
  }));

/** Opt-outs: the FCC's seven per-se words, AWS's list, and the other languages' usual words. */
export const OPT_OUT_ENTRIES: readonly KeywordEntry[] = [
  ...entry("OPT_OUT", null, "STOP"),
  ...entry("OPT_OUT", "en", "UNSUBSCRIBE|CANCEL|END|QUIT|REVOKE|OPTOUT|OPT OUT|OPT-OUT|REMOVE"),
  ...entry("OPT_OUT", null, "TD", true),
  ...entry("OPT_OUT", "es", "PARAR|DETENER|CANCELAR|NO MÁS"),
  ...entry("OPT_OUT", "es", "ALTO|BAJA|BASTA", true),
  ...entry("OPT_OUT", "fr", "ARRÊT|ARRÊTE|ARRÊTER|ARRÊTEZ|DÉSABONNER"),
  ...entry("OPT_OUT", "pt", "SAIR|PARE", true),
  ...entry("OPT_OUT", "de", "STOPP"),
  ...entry("OPT_OUT", "zh", "退订"),
  ...entry("OPT_OUT", "ru", "СТОП"),
];
export const OPT_OUT_ALL_ENTRIES: readonly KeywordEntry[] = [
  ...entry("OPT_OUT_ALL", null, "STOPALL|STOP ALL"),
];
export const OPT_IN_ENTRIES: readonly KeywordEntry[] = [...entry("OPT_IN", "en", "START|UNSTOP")];
export const CONFIRM_ENTRIES: readonly KeywordEntry[] = [
  ...entry("CONFIRM", "en", "YES"),
  ...entry("CONFIRM", null, "Y"),
];
export const HELP_ENTRIES: readonly KeywordEntry[] = [
  ...entry("HELP", "en", "HELP"),
  ...entry("HELP", null, "INFO"),
  ...entry("HELP", "es", "AYUDA"),
];

export const ALL_ENTRIES: readonly KeywordEntry[] = [
  ...OPT_OUT_ALL_ENTRIES,
  ...OPT_OUT_ENTRIES,
  ...HELP_ENTRIES,
  ...CONFIRM_ENTRIES,
  ...OPT_IN_ENTRIES,
];

/** A vocabulary, written as it is read: plain (upper case, accent-free). */
const words = (list: string) => new Set(plain(list).split(/\s+/));

/** Courtesy, address and filler words: they add nothing to what a clause asks. */
export const COURTESY = words(
  "PLEASE PLS PLZ KINDLY THANKS THANK THX TY OK OKAY K HEY HI HELLO JUST NOW " +
    "ALREADY IMMEDIATELY ASAP AGAIN ANYMORE ANY MORE FOREVER PERMANENTLY RIGHT SERIOUSLY " +
    "YES YEAH YEP NO NOPE SIR MAAM MA'AM AWAY LOL OMG UGH WTF FFS DUDE GUYS OH WOW SORRY REALLY " +
    "POR FAVOR GRACIAS YA AHORA MERCI SVP S'IL VOUS PLAIT STP BITTE DANKE OBRIGADO OBRIGADA " +
    "JA SI OUI YA 谢谢 请 ПОЖАЛУЙСТА СПАСИБО",
);

/** What a revocation stops: the messages, the sending, the subscription, the sender. */
export const MESSAGING = words(
  "TEXT TEXTS TEXTING TXT TXTS TXTING MESSAGE MESSAGES MESSAGING MSG MSGS SMS MMS SENDING SEND " +
    "CONTACTING CONTACT CALLING CALLS EMAILING EMAILS SPAMMING SPAM BOTHERING HARASSING BUGGING " +
    "ALERTS NOTIFICATIONS PROMOS PROMOTIONS ADS MARKETING SUBSCRIPTION SUBSCRIPTIONS MEMBERSHIP " +
    "LIST NUMBER PHONE ME US IT THIS THESE THAT THOSE THEM ALL EVERYTHING MY YOUR THE ANY " +
    "FROM TO ON OF OFF IMMEDIATELY CONSENT SUBSCRIBED UPDATES " +
    "MENSAJES MENSAJE TEXTOS SMSS ENVIAR ENVIARME MANDAR MANDARME ESCRIBIR ESCRIBIRME SUSCRIPCION " +
    "ENVIOS LOS LAS MIS ME DE " +
    "MESSAGES ENVOYER M'ENVOYER ENVOIS ABONNEMENT DE D' M' MOI DES LES " +
    "MENSAGENS ENVIAR MANDAR ASSINATURA " +
    "NACHRICHTEN SMS ABO",
);

/** Words that negate what follows them in their clause. */
export const NEGATORS = words(
  "DON'T DONT NOT NEVER CAN'T CANT CANNOT WON'T WONT DIDN'T DIDNT DOESN'T DOESNT ISN'T " +
    "AREN'T WOULDN'T SHOULDN'T COULDN'T HAVEN'T NOR NEITHER N'T " +
    "NUNCA JAMAS NI NE N' PAS JAMAIS NAO NICHT KEIN KEINE NIE НЕ",
);
/** NO negates a verb in Spanish and Portuguese ("no cancelar"); in English "No stop" is "No. Stop". */
export const NO_NEGATES = new Set(["es", "pt"]);

/** Words that open a question. */
export const INTERROGATIVES = words(
  "WHAT WHEN WHERE WHY HOW WHO WHICH WHOSE DO DOES DID IS ARE WAS WERE WILL CAN COULD WOULD " +
    "SHOULD MAY AM HAS HAVE HAD SHALL " +
    "QUE QUE CUANDO COMO DONDE POR PORQUE CUAL QUIEN QUAND COMMENT POURQUOI OU EST-CE QUAL QUANDO ONDE",
);

/** Words that open a subordinate clause: what follows is a condition, not a request. */
export const SUBORDINATORS = words("IF WHEN UNLESS UNTIL WHETHER ONCE SI CUANDO QUAND SE WENN");

/** Words after which a keyword is a noun or a mention, not a request ("the end", "reply STOP"). */
export const NOUN_MARKERS = words(
  "THE A AN ITS HIS HER THEIR ONE NEXT LAST FIRST BUS TRAIN FULL PIT TRUCK NON " +
    "REPLY TEXT TYPE SEND WORD KEYWORD RESPOND ANSWER EL LA LE L' UN UNE",
);

/** Words that start a new clause when a keyword is followed by them without punctuation. */
export const CLAUSE_OPENERS = words(
  "I I'M IM I'VE IVE WE YOU YOU'RE U THIS'S IT'S WHO WHY WHAT HOW THANKS THANK " +
    "YO NO JE JA ICH EU",
);
