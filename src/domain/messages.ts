// The texts optgraph hands back to send: built from a campaign's disclosures so every message
// carries what COMPLIANCE.md asks of it.

export interface MessageDisclosures {
  programName: string;
  messageFrequency: string;
  helpText: string;
  optInConfirmation: string;
  optOutConfirmation: string;
  /** the reply texts in other languages (stored as JSON on the disclosure version) */
  translations?: unknown;
}

/** A campaign's reply texts in one language. */
export interface ReplyTexts {
  locale: string;
  helpText: string;
  optInConfirmation: string;
  optOutConfirmation: string;
}

/** The translations stored with a disclosure version (JSON), those well formed. */
export function translationsOf(json: unknown): ReplyTexts[] {
  if (!Array.isArray(json)) return [];
  return json.filter(
    (t): t is ReplyTexts =>
      typeof t === "object" &&
      t !== null &&
      ["locale", "helpText", "optInConfirmation", "optOutConfirmation"].every(
        (k) => typeof (t as Record<string, unknown>)[k] === "string",
      ),
  );
}

/**
 * The disclosures with their reply texts in a language, when the campaign has them: the exact
 * locale ("pt-BR"), else its language ("pt-BR" → "pt", "es" → "es-MX"); otherwise unchanged.
 */
export function inLocale<D extends MessageDisclosures>(d: D, locale: string | null): D {
  if (!locale) return d;
  const translations = translationsOf(d.translations);
  const wanted = locale.toLowerCase();
  const language = wanted.split("-")[0];
  const found =
    translations.find((t) => t.locale.toLowerCase() === wanted) ??
    translations.find((t) => t.locale.toLowerCase() === language) ??
    translations.find((t) => t.locale.toLowerCase().split("-")[0] === language);
  if (!found) return d;
  return {
    ...d,
    helpText: found.helpText,
    optInConfirmation: found.optInConfirmation,
    optOutConfirmation: found.optOutConfirmation,
  };
}

/** A disclosure as one sentence: trimmed, ending with exactly one full stop (or its own ! or ?). */
const sentence = (text: string) => {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
};
const mentions = (text: string, part: string) => text.toLowerCase().includes(part.toLowerCase());

/** The double opt-in prompt: program, frequency, rates, how to confirm and how to cancel. */
export function confirmationPrompt(d: MessageDisclosures): string {
  return `${d.programName}: reply Y to confirm your subscription. ${sentence(d.messageFrequency)} Msg & data rates may apply. Reply HELP for help, STOP to cancel.`;
}

export const optInConfirmation = (d: MessageDisclosures) => d.optInConfirmation;
export const optOutConfirmation = (d: MessageDisclosures) => d.optOutConfirmation;

/** After an opt-out that spans several programs (STOPALL): no marketing, how to come back. */
export function organizationOptOutConfirmation(programNames: readonly string[]): string {
  const names = programNames.length > 0 ? programNames.join(", ") : "all programs";
  return `You're unsubscribed from ${names} and will get no more messages. Reply START to rejoin.`;
}

/**
 * The HELP reply: program, support contact (in the help text), frequency, rates, how to stop.
 * Each required element is added unless the campaign's help text already says it, so a complete
 * help text is sent as written rather than with every element twice.
 */
export function helpReply(d: MessageDisclosures): string {
  const help = sentence(d.helpText);
  const parts = [mentions(help, d.programName) ? help : `${d.programName}: ${help}`];
  const frequency = d.messageFrequency.trim().replace(/[.!?]+$/, "");
  if (!mentions(help, frequency)) parts.push(sentence(frequency));
  if (!/msg\s*(&|and)\s*data rates/i.test(help)) parts.push("Msg & data rates may apply.");
  if (!/\bSTOP\b/.test(help)) parts.push("Reply STOP to cancel.");
  return parts.join(" ");
}
