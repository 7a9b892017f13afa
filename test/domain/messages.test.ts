// The texts optgraph hands back: every required element once, whatever the campaign's help text
// already says.
import { describe, expect, it } from "vitest";
import { confirmationPrompt, helpReply, inLocale } from "../../src/domain/messages.ts";

const base = {
  programName: "Acme Deals",
  messageFrequency: "Up to 4 msgs/month",
  helpText: "Help at help@acme.example or 1-800-555-0100.",
  optInConfirmation: "",
  optOutConfirmation: "",
};

describe("helpReply", () => {
  it("adds program, frequency, rates and STOP to a help text that has only the contact", () => {
    expect(helpReply(base)).toBe(
      "Acme Deals: Help at help@acme.example or 1-800-555-0100. Up to 4 msgs/month. Msg & data rates may apply. Reply STOP to cancel.",
    );
  });

  it("sends a complete help text as written, with no element twice", () => {
    const helpText =
      "Acme Deals: help at help@acme.example. Up to 4 msgs/month. Msg&data rates may apply. Reply STOP to cancel";
    expect(helpReply({ ...base, helpText })).toBe(`${helpText}.`);
  });

  it("adds only what is missing, and one full stop after a frequency that has its own", () => {
    const reply = helpReply({
      ...base,
      messageFrequency: "Up to 4 msgs/month.",
      helpText: "Acme Deals support: help@acme.example. Msg and data rates may apply",
    });
    expect(reply).toBe(
      "Acme Deals support: help@acme.example. Msg and data rates may apply. Up to 4 msgs/month. Reply STOP to cancel.",
    );
  });
});

describe("confirmationPrompt", () => {
  it("names the program, frequency, rates, Y, HELP and STOP, with one full stop each", () => {
    expect(confirmationPrompt({ ...base, messageFrequency: "Up to 4 msgs/month." })).toBe(
      "Acme Deals: reply Y to confirm your subscription. Up to 4 msgs/month. Msg & data rates may apply. Reply HELP for help, STOP to cancel.",
    );
  });
});

describe("inLocale", () => {
  const d = { ...base, optInConfirmation: "You're in!", optOutConfirmation: "You're out." };
  const spanish = {
    locale: "es",
    helpText: "Ayuda: support@acme.example.",
    optInConfirmation: "¡Ya estás suscrito!",
    optOutConfirmation: "Ya no recibirás mensajes.",
  };
  const brazilian = { ...spanish, locale: "pt-BR", optOutConfirmation: "Você saiu." };
  const texts = { ...d, translations: [spanish, brazilian] };

  it.each([
    ["es", spanish.optOutConfirmation],
    ["es-MX", spanish.optOutConfirmation],
    ["ES", spanish.optOutConfirmation],
    ["pt-BR", brazilian.optOutConfirmation],
    ["pt", brazilian.optOutConfirmation],
    ["pt-PT", brazilian.optOutConfirmation],
    ["fr", d.optOutConfirmation],
    [null, d.optOutConfirmation],
  ])("%s → %s", (locale, optOut) => {
    expect(inLocale(texts, locale).optOutConfirmation).toBe(optOut);
  });

  it("replaces the three reply texts and nothing else", () => {
    const result = inLocale(texts, "es");
    expect(result).toMatchObject({
      programName: d.programName,
      messageFrequency: d.messageFrequency,
      helpText: spanish.helpText,
      optInConfirmation: spanish.optInConfirmation,
      optOutConfirmation: spanish.optOutConfirmation,
    });
  });

  it("ignores stored translations that are not well formed", () => {
    const broken = { ...d, translations: [{ locale: "es", helpText: 3 }, "es", null] };
    expect(inLocale(broken, "es")).toEqual(broken);
    expect(inLocale({ ...d, translations: { es: spanish } }, "es").helpText).toBe(d.helpText);
  });
});
