// The keyword engine against messages as people really send them, group by group, each group
// with the rule it checks (the rule itself: src/domain/keywords.ts and docs/COMPLIANCE.md,
// "Keywords"). Outcomes:
//   REVOKED  OPT_OUT, review NONE: a keyword, or an unmistakable revocation, applied at once
//   ALL      OPT_OUT_ALL, review NONE
//   APPLIED  OPT_OUT, review APPLIED: a revocation in other words, applied and marked for review
//   HELD     UNKNOWN, review HELD, heldIntent OPT_OUT: an opt-out word that reads as no revocation
//   HELD_ALL UNKNOWN, review HELD, heldIntent OPT_OUT_ALL
//   NOTHING  UNKNOWN, review NONE
// The expected language (locale) is checked where a row gives one ("-" for none expected).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyMessage, type Classification } from "../../src/domain/keywords.ts";

type Outcome = "REVOKED" | "ALL" | "APPLIED" | "HELD" | "HELD_ALL" | "NOTHING";
type Row = [body: string, outcome: Outcome, locale?: string];

const expected: Record<Outcome, Partial<Classification>> = {
  REVOKED: { intent: "OPT_OUT", review: "NONE", needsReview: false, heldIntent: null },
  ALL: { intent: "OPT_OUT_ALL", review: "NONE", needsReview: false, heldIntent: null },
  APPLIED: { intent: "OPT_OUT", review: "APPLIED", needsReview: true, heldIntent: null },
  HELD: { intent: "UNKNOWN", review: "HELD", needsReview: true, heldIntent: "OPT_OUT" },
  HELD_ALL: { intent: "UNKNOWN", review: "HELD", needsReview: true, heldIntent: "OPT_OUT_ALL" },
  NOTHING: { intent: "UNKNOWN", review: "NONE", needsReview: false, heldIntent: null },
};

/** Every format character class (\p{Cf}) phones and mail clients insert. */
const INVISIBLES = {
  "zero-width space": "\u200b",
  "zero-width non-joiner": "\u200c",
  "zero-width joiner": "\u200d",
  "soft hyphen": "\u00ad",
  "word joiner": "\u2060",
  "byte-order mark": "\ufeff",
  "left-to-right mark": "\u200e",
  "right-to-left mark": "\u200f",
  "right-to-left override": "\u202e",
  "left-to-right isolate": "\u2066",
  "pop directional isolate": "\u2069",
  "arabic letter mark": "\u061c",
  "mongolian vowel separator": "\u180e",
  "tag space": "\u{e0020}",
};

// Rule: an invisible format character before, after or inside a keyword changes nothing: the
// keyword is still the whole message (REVOKED).
const invisible: Row[] = Object.values(INVISIBLES).flatMap((c): Row[] => [
  [`${c}STOP`, "REVOKED"],
  [`STOP${c}`, "REVOKED"],
  [`ST${c}OP`, "REVOKED"],
  [`S${c}T${c}O${c}P`, "REVOKED"],
  [`un${c}subscribe`, "REVOKED", "en"],
]);
invisible.push(
  ["\u200b\u200bcancel\u200b", "REVOKED", "en"],
  ["Q\u00adU\u00adI\u00adT", "REVOKED", "en"],
  ["\u202bSTOP\u202c", "REVOKED"],
  ["ok STO\u200bP thanks", "REVOKED"],
  ["please stop\u2060 texting me", "REVOKED"],
  ["\u200bwhen does the sale e\u00adnd?", "HELD", "en"],
);

// Rule: look-alike letters from other scripts read as the Latin letters they imitate (UTS #39
// skeleton), so the keyword is still the whole message; a genuinely Russian СТОП is Russian.
const lookAlikes: Row[] = [
  ["SТОР", "REVOKED"], // Cyrillic Т, О, Р
  ["ЅТОР", "REVOKED"], // Cyrillic Ѕ too
  ["ѕтор", "REVOKED"], // lower-case Cyrillic
  ["STΟP", "REVOKED"], // Greek omicron
  ["SΤΟΡ", "REVOKED"], // Greek tau, omicron, rho
  ["ST0P", "REVOKED"], // the digit zero
  ["QUӀT", "REVOKED"], // Cyrillic palochka for I
  ["ЕND", "REVOKED"], // Cyrillic Е
  ["САNСЕL", "REVOKED"], // Cyrillic С, А, Е
  ["UNSUBSСRIBЕ", "REVOKED"],
  ["Ѕtop texting me", "REVOKED"],
  ["ОК ЅТОР", "REVOKED"],
  ["СТОП", "REVOKED", "ru"],
  ["стоп", "REVOKED", "ru"],
  ["Стоп!", "REVOKED", "ru"],
  ["Стоп пожалуйста", "REVOKED", "ru"],
  ["не стоп", "HELD", "ru"],
];

// Rule: what follows a mail-client or phone signature, a "--" line or a quoted earlier message is
// not the subscriber's words: the keyword before it is still the whole message.
const signatures: Row[] = [
  ["STOP\n\nSent from my iPhone", "REVOKED"],
  ["Stop\nSent from my Galaxy", "REVOKED"],
  ["STOP Sent from my iPhone", "REVOKED"],
  ["stop\n\nGet Outlook for iOS", "REVOKED"],
  ["Unsubscribe\n\nGet Outlook for Android", "REVOKED", "en"],
  ["STOP\n--\nJohn Smith\nAcme Corp", "REVOKED"],
  ["STOP\n-- \nJane | 555-0100", "REVOKED"],
  ["cancel\n__\nsent via mobile", "REVOKED", "en"],
  ["STOP\n\nSent from Yahoo Mail for iPhone", "REVOKED"],
  ["STOP\n\nEnviado desde mi iPhone", "REVOKED"],
  ["BAJA\n\nEnviado desde mi iPhone", "REVOKED", "es"],
  ["ARRÊT\n\nEnvoyé de mon iPhone", "REVOKED", "fr"],
  ["STOPP\n\nVon meinem iPhone gesendet", "REVOKED", "de"],
  ["Hi,\nplease unsubscribe me.\n\nThanks,\nJane\n-- \nJane Doe | Acme Corp\n555-0100", "REVOKED"],
  [
    "STOP\n\nOn Mon, Dec 1, 2026 at 9:00 AM Acme <deals@acme.example> wrote:\n> 20% off!",
    "REVOKED",
  ],
  // a quoted "Reply STOP to cancel" is the sender's words, not the subscriber's
  ["Thanks!\n\nOn Mon, Dec 1, 2026, Acme wrote:\n> 20% off! Reply STOP to cancel", "NOTHING"],
  ["Great, see you there\n> Reply STOP to opt out", "NOTHING"],
  ["Is this still on?\n\nSent from my iPhone", "NOTHING"],
];

// Rule: an opt-out keyword standing as its own word in a clause that says nothing else but
// courtesy words and what it stops is an unmistakable revocation (REVOKED), wherever it is.
const standalone: Row[] = [
  ["ok STOP thanks", "REVOKED"],
  ["STOP please", "REVOKED"],
  ["please stop", "REVOKED"],
  ["please, stop", "REVOKED"],
  ["Thanks. STOP", "REVOKED"],
  ["Stop it", "REVOKED"],
  ["stop it now", "REVOKED"],
  ["STOP STOP STOP", "REVOKED"],
  ["STOP!!! STOP!!!", "REVOKED"],
  ["STOOOOOP", "REVOKED"],
  ["stopppp", "REVOKED"],
  ["CANCELLLL", "REVOKED", "en"],
  ["stop texting me", "REVOKED"],
  ["Please stop texting me!", "REVOKED"],
  ["stop sending me messages", "REVOKED"],
  ["Quit messaging me", "REVOKED", "en"],
  ["STOP texting me you idiots", "REVOKED"],
  ["Unsubscribe me", "REVOKED", "en"],
  ["UNSUBSCRIBE ME NOW!!!", "REVOKED", "en"],
  ["unsubscribe me from this list please", "REVOKED", "en"],
  ["please cancel my subscription", "REVOKED", "en"],
  ["cancel my subscription", "REVOKED", "en"],
  ["remove me from your list", "REVOKED", "en"],
  ["Remove me", "REVOKED", "en"],
  ["Please remove my number", "REVOKED", "en"],
  ["opt out please", "REVOKED", "en"],
  ["please opt-out", "REVOKED", "en"],
  ["Stop, please", "REVOKED"],
  ["STOP!! thanks", "REVOKED"],
  ["Stop. Thank you", "REVOKED"],
  ["Unsubscribe, thanks", "REVOKED", "en"],
  ["STOP 🛑 please", "REVOKED"],
  ["please stop 🛑 now", "REVOKED"],
  ["No, stop", "REVOKED"],
  ["lol stop", "REVOKED"],
  ["Yes stop", "REVOKED"],
  ["Stop. I never signed up for this", "REVOKED"],
  ["Stop I never signed up", "REVOKED"],
  ["STOP who is this", "REVOKED"],
  ["Thanks! Love the deals but please stop", "REVOKED"],
  ["Hey, I got your message about the sale. STOP. Thanks", "REVOKED"],
  ["I have been getting these for weeks and I never asked for them. STOP.", "REVOKED"],
  [
    "Hi there. I bought a couch from you last year and that was fine, but I am moving and I do not need furniture anymore, so: STOP. Have a good day.",
    "REVOKED",
  ],
  ["end", "REVOKED", "en"],
  ["End.", "REVOKED", "en"],
  ["REVOKE", "REVOKED", "en"],
  ["Quit", "REVOKED", "en"],
  ["opt out", "REVOKED", "en"],
  ["OPT-OUT", "REVOKED", "en"],
  ["opt_out", "REVOKED", "en"],
  ["OptOut", "REVOKED", "en"],
  ["S.T.O.P", "REVOKED"],
  ["stop?", "REVOKED"],
  ["Stop?? Who is this", "REVOKED"],
  ["Is the sale over? End?", "REVOKED", "en"],
  ["stop fucking texting me", "REVOKED"],
  ["Please stop these annoying messages", "REVOKED"],
  ["STOP ALL", "ALL"],
  ["stopall", "ALL"],
  ["Stop-All", "ALL"],
  ["Stop all texts", "ALL"],
  ["STOP ALL messages please", "ALL"],
  ["please stop all", "ALL"],
];

// Rule: a revocation in other words, or an opt-out keyword inside a sentence that says more, is
// applied at once and marked for review (APPLIED). A request put as a question is a request.
const otherWords: Row[] = [
  ["I revoke my consent", "APPLIED", "en"],
  ["I hereby revoke consent to be texted", "APPLIED", "en"],
  ["I want to stop", "APPLIED"],
  ["I want to stop receiving", "APPLIED"],
  ["I would like to stop getting these texts", "APPLIED"],
  ["I said STOP", "APPLIED"],
  ["I'd like to unsubscribe", "APPLIED", "en"],
  ["I'd like to opt out", "APPLIED", "en"],
  ["I want to cancel my subscription to these texts", "APPLIED", "en"],
  ["I no longer want to receive these texts", "APPLIED", "en"],
  ["Can you stop texting me?", "APPLIED"],
  ["Can you please stop sending these texts", "APPLIED"],
  ["Could you unsubscribe me?", "APPLIED", "en"],
  ["How do I unsubscribe?", "APPLIED", "en"],
  ["how do i stop these texts", "APPLIED"],
  ["Why won't you stop texting me", "APPLIED"],
  ["When will you stop texting me?", "APPLIED"],
  ["My husband wants to quit getting these", "APPLIED", "en"],
  ["take me off your list", "APPLIED", "en"],
  ["Please take me off this list", "APPLIED", "en"],
  ["Can you take me off your list?", "APPLIED", "en"],
  ["opt me out", "APPLIED", "en"],
  ["leave me alone", "APPLIED", "en"],
  ["wrong number", "APPLIED", "en"],
  ["Sorry, this is the wrong number", "APPLIED", "en"],
  ["don't text me", "APPLIED", "en"],
  ["dont text me", "APPLIED", "en"],
  ["don’t text me", "APPLIED", "en"],
  ["Don’t message me anymore", "APPLIED", "en"],
  ["Do not contact me again", "APPLIED", "en"],
  ["never message me again", "APPLIED", "en"],
  ["please don't send me any more of these", "APPLIED", "en"],
  ["I don't want any more texts", "APPLIED", "en"],
  ["I do not want these messages", "APPLIED", "en"],
  ["no more messages", "APPLIED", "en"],
  ["No more texts please", "APPLIED", "en"],
  ["not interested", "APPLIED", "en"],
  ["I withdraw my consent", "APPLIED", "en"],
  ["Cease and desist", "APPLIED", "en"],
  ["delete my number", "APPLIED", "en"],
  ["unsub", "APPLIED", "en"],
  ["Can you not text me", "APPLIED", "en"],
  ["how many times do I have to say stop", "APPLIED"],
  ["Go away", "APPLIED", "en"],
  ["put me on your do not text list", "APPLIED", "en"],
  ["Who is this? Please remove me from this list", "REVOKED", "en"],
];

// Rule: an opt-out word that reads as no revocation holds the message for review and changes
// nothing (HELD): in a question that is no request, negated, in a condition, as a noun or a
// mention, or as a verb with another object.
const held: Row[] = [
  ["when does the sale end?", "HELD", "en"],
  ["When does it end", "HELD", "en"],
  ["Does the promo end tonight?", "HELD", "en"],
  ["Is the sale over? Does it end today?", "HELD", "en"],
  ["Did you stop sending the deals?", "HELD"],
  ["Can I cancel anytime?", "HELD", "en"],
  ["Will my points end if I quit?", "HELD", "en"],
  ["don't stop", "HELD"],
  ["Don't stop the deals!", "HELD"],
  ["Please don’t stop the deals", "HELD"],
  ["I don't want to unsubscribe", "HELD", "en"],
  ["I do not want to cancel", "HELD", "en"],
  ["never quit", "HELD", "en"],
  ["I can't stop smiling", "HELD"],
  ["I cant stop laughing at this ad", "HELD"],
  ["Please don't remove me", "HELD", "en"],
  ["I didn't unsubscribe, why did my texts stop?", "HELD", "en"],
  ["If I stop, will I lose my points?", "HELD"],
  ["When I cancel, do I keep the discount?", "HELD", "en"],
  ["The END", "HELD", "en"],
  ["the end", "HELD", "en"],
  ["I'm at the end of my rope", "HELD", "en"],
  ["End of season sale?", "HELD", "en"],
  ["Is the bus stop near the store?", "HELD"],
  ["Reply STOP to opt out? what does that mean", "HELD"],
  ["Stop by later?", "HELD"],
  ["Can I stop by tomorrow?", "HELD"],
  ["I'll stop by the store later", "HELD"],
  ["Stop & Shop has a better deal", "HELD"],
  ["Cancel my order", "HELD", "en"],
  ["How do I cancel my order?", "HELD", "en"],
  ["I need to cancel my appointment", "HELD", "en"],
  ["cancel the 3pm reservation please", "HELD", "en"],
  ["I quit smoking thanks to your app", "HELD", "en"],
  ["remove the item from my cart", "HELD", "en"],
  ["I want to quit getting charged twice", "HELD", "en"],
  ["Did I unsubscribe by accident?", "HELD", "en"],
  ["The deals never end!", "HELD", "en"],
  ["Love these, keep them coming. Don't stop", "HELD"],
  ["don't stop all", "HELD_ALL"],
];

// Rule: no opt-out word standing as its own word and no revocation phrase: nothing happens and
// nobody needs to look (NOTHING), however close the words look.
const nothing: Row[] = [
  ["never got a text about my order", "NOTHING"],
  ["I never got the message", "NOTHING"],
  ["take me to the checkout", "NOTHING"],
  ["Take me there!", "NOTHING"],
  ["Stopwatch on sale?", "NOTHING"],
  ["Nonstop deals!", "NOTHING"],
  ["weekend deals?", "NOTHING"],
  ["Sale ends when?", "NOTHING"],
  ["Ending soon?", "NOTHING"],
  ["Quite good", "NOTHING"],
  ["quitting", "NOTHING"],
  ["Revoked?", "NOTHING"],
  ["cancelled", "NOTHING"],
  ["unsubscribed", "NOTHING"],
  ["TOP", "NOTHING"],
  ["SHOP", "NOTHING"],
  ["SPOT", "NOTHING"],
  ["STEP", "NOTHING"],
  ["POTS", "NOTHING"],
  ["STOOP", "NOTHING"],
  ["AND", "NOTHING"],
  ["cancer", "NOTHING"],
  ["REVOKED", "NOTHING"],
  ["quite", "NOTHING"],
  ["quiet", "NOTHING"],
  ["ENDS", "NOTHING"],
  ["Cancels", "NOTHING"],
  ["no more", "NOTHING"],
  ["no", "NOTHING"],
  ["n", "NOTHING"],
  ["ok", "NOTHING"],
  ["Who is this?", "NOTHING"],
  ["what time does the store open", "NOTHING"],
  ["No puedo enviar el pago", "NOTHING"],
  ["la temperatura está baja", "NOTHING"],
  ["el volumen está muy alto", "NOTHING"],
  ["ya basta de lluvia jaja", "NOTHING"],
  ["Is TD bank open today?", "NOTHING"],
  ["I'm interested in the blue one", "NOTHING"],
  ["Not interested in the blue one, do you have red?", "NOTHING"],
  ["Why did you take me off the list?", "NOTHING"],
  ["I don't want you to take me off the list", "NOTHING"],
  ["Keep the deals coming!", "NOTHING"],
  ["😀", "NOTHING"],
  ["", "NOTHING"],
  ["   ", "NOTHING"],
  ["...", "NOTHING"],
  ["\u200b\u200b", "NOTHING"],
];

// Rule: the other languages' opt-outs are keywords as whole messages (REVOKED) in their language;
// revocations in their words are APPLIED; their negations are HELD; words with everyday meanings
// (ALTO, BAJA, BASTA, PARE, SAIR, TD) count only as a clause of their own.
const languages: Row[] = [
  ["REMOVE", "REVOKED", "en"],
  ["TD", "REVOKED", "-"],
  ["td", "REVOKED", "-"],
  ["PARAR", "REVOKED", "es"],
  ["¡ALTO!", "REVOKED", "es"],
  ["alto por favor", "REVOKED", "es"],
  ["Por favor, ALTO", "REVOKED", "es"],
  ["dÉtener", "REVOKED", "es"],
  ["CANCELAR", "REVOKED", "es"],
  ["cancelar suscripción", "REVOKED", "es"],
  ["baja", "REVOKED", "es"],
  ["BAJA por favor", "REVOKED", "es"],
  ["NO MÁS", "REVOKED", "es"],
  ["no mas", "REVOKED", "es"],
  ["No más mensajes por favor", "REVOKED", "es"],
  ["¡Basta!", "REVOKED", "es"],
  ["Gracias. BAJA", "REVOKED", "es"],
  ["no me manden mensajes", "APPLIED", "es"],
  ["No me envíen más mensajes", "APPLIED", "es"],
  ["dejen de enviarme mensajes", "APPLIED", "es"],
  ["Deja de mandarme mensajes por favor", "APPLIED", "es"],
  ["Quiero darme de baja", "APPLIED", "es"],
  ["Por favor denme de baja de esta lista", "APPLIED", "es"],
  ["Ya no quiero recibir mensajes", "APPLIED", "es"],
  ["número equivocado", "APPLIED", "es"],
  ["Quiero cancelar mi suscripción", "APPLIED", "es"],
  ["no cancelar", "HELD", "es"],
  ["No quiero cancelar", "HELD", "es"],
  ["Quiero cancelar mi pedido", "HELD", "es"],
  ["¿Cuándo termina la oferta?", "NOTHING"],
  ["¿Cómo me doy de baja?", "APPLIED", "es"],
  ["¿Por qué me dieron de baja?", "NOTHING"],
  ["ARRET", "REVOKED", "fr"],
  ["arrêt", "REVOKED", "fr"],
  ["Arrêt.", "REVOKED", "fr"],
  ["ARRÊTER", "REVOKED", "fr"],
  ["Arrêtez", "REVOKED", "fr"],
  ["Arrête!", "REVOKED", "fr"],
  ["arrêt svp", "REVOKED", "fr"],
  ["Désabonner", "REVOKED", "fr"],
  ["DESABONNER", "REVOKED", "fr"],
  ["ARRÊTEZ de m'envoyer des SMS", "REVOKED", "fr"],
  ["Je veux me désabonner", "APPLIED", "fr"],
  ["Comment me désabonner ?", "APPLIED", "fr"],
  ["Désinscription", "APPLIED", "fr"],
  ["Ne m'envoyez plus de messages", "APPLIED", "fr"],
  ["Je ne veux plus recevoir de SMS", "APPLIED", "fr"],
  ["arrêter de fumer", "HELD", "fr"],
  ["N'arrêtez pas les promos!", "HELD", "fr"],
  ["l'arrêt de bus", "HELD", "fr"],
  ["SAIR", "REVOKED", "pt"],
  ["Sair", "REVOKED", "pt"],
  ["PARE", "REVOKED", "pt"],
  ["Pare de enviar mensagens", "REVOKED", "pt"],
  ["Parem de me mandar mensagens", "APPLIED", "pt"],
  ["Quero sair", "APPLIED", "pt"],
  ["Não quero mais receber mensagens", "APPLIED", "pt"],
  ["vou sair de casa agora", "NOTHING"],
  ["STOPP", "REVOKED", "de"],
  ["stopp", "REVOKED", "de"],
  ["STOPP bitte", "REVOKED", "de"],
  ["Bitte keine SMS mehr", "APPLIED", "de"],
  ["abmelden", "APPLIED", "de"],
  ["退订", "REVOKED", "zh"],
  ["退订。", "REVOKED", "zh"],
  ["我要退订", "APPLIED", "zh"],
  ["请帮我退订，谢谢", "APPLIED", "zh"],
  ["不要退订", "HELD", "zh"],
  ["怎么退订？", "APPLIED", "zh"],
  ["退订会扣钱吗？", "HELD", "zh"],
  ["取消订阅", "APPLIED", "zh"],
  ["СТОП.", "REVOKED", "ru"],
];

// Rule: one typing slip from a long-enough opt-out keyword, as the whole message, is a revocation
// in other words (APPLIED): any one edit for seven letters or more, a letter added, lost or two
// swapped for six, two letters swapped after the first for four or five. Real words and the
// keyword's inflections are not slips (see the NOTHING group).
const misspellings: Row[] = [
  ["STPO", "APPLIED"],
  ["SOTP", "APPLIED"],
  ["stpo please", "APPLIED"],
  ["QUTI", "APPLIED", "en"],
  ["qiut", "APPLIED", "en"],
  ["UNSUSCRIBE", "APPLIED", "en"],
  ["UNSUBSCRIBR", "APPLIED", "en"],
  ["unsubcribe", "APPLIED", "en"],
  ["Unsubscibe", "APPLIED", "en"],
  ["unsubsribe", "APPLIED", "en"],
  ["unsubscrbe", "APPLIED", "en"],
  ["unsuscribe me", "NOTHING"],
  ["cancle", "APPLIED", "en"],
  ["CANCELL", "APPLIED", "en"],
  ["cancl", "APPLIED", "en"],
  ["revokee", "APPLIED", "en"],
  ["REVOEK", "APPLIED", "en"],
  ["OPTOUTT", "APPLIED", "en"],
  ["CANCELRA", "APPLIED", "es"],
  ["DETENR", "APPLIED", "es"],
  ["DESABONER", "APPLIED", "fr"],
  ["S T O P", "APPLIED"],
  ["UN SUBSCRIBE", "APPLIED", "en"],
];

const groups: Record<string, Row[]> = {
  "invisible characters": invisible,
  "look-alike letters": lookAlikes,
  signatures,
  "standalone keywords": standalone,
  "revocation in other words": otherWords,
  "held: questions, negations, other senses": held,
  "not a revocation": nothing,
  "other languages": languages,
  misspellings,
};

describe("the keyword corpus", () => {
  const all = Object.values(groups).flat();

  it("has at least 300 distinct messages", () => {
    expect(new Set(all.map(([body]) => body)).size).toBeGreaterThanOrEqual(300);
  });

  for (const [group, rows] of Object.entries(groups)) {
    describe(group, () => {
      it.each(rows)("%j → %s", (body, outcome, locale) => {
        const result = classifyMessage(body, ["JOIN"]);
        expect(result).toMatchObject(expected[outcome]);
        if (locale !== undefined) expect(result.locale).toBe(locale === "-" ? null : locale);
      });
    });
  }
});

// Rule (properties): format characters anywhere never change what a message means, and no text
// makes the engine throw or answer outside its outcomes.
describe("the keyword engine's invariants", () => {
  const format = fc.constantFrom(...Object.values(INVISIBLES));
  const sample = fc.constantFrom(
    ...Object.values(groups)
      .flat()
      .map(([body]) => body)
      .filter((body) => !/\p{Cf}/u.test(body)),
  );

  it("reads a message the same with format characters inserted anywhere", () => {
    fc.assert(
      fc.property(
        sample,
        fc.array(fc.tuple(fc.nat(), format), { maxLength: 6 }),
        (body, inserts) => {
          const chars = [...body];
          for (const [at, c] of inserts) chars.splice(at % (chars.length + 1), 0, c);
          expect(classifyMessage(chars.join(""), ["JOIN"])).toEqual(
            classifyMessage(body, ["JOIN"]),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("classifies any text into a consistent outcome", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (body) => {
        const c = classifyMessage(body);
        expect(c.needsReview).toBe(c.review !== "NONE");
        expect(c.heldIntent !== null).toBe(c.review === "HELD");
        if (c.review === "HELD") expect(c.intent).toBe("UNKNOWN");
        if (c.review === "APPLIED") expect(["OPT_OUT", "OPT_OUT_ALL"]).toContain(c.intent);
      }),
      { numRuns: 1000 },
    );
  });
});
