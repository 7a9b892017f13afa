// Replies in the subscriber's language, end to end over real HTTP: a campaign's disclosures carry
// translations of its reply texts; an inbound message is answered in the subscriber's stored locale,
// else in the language of the keyword it used, else in the campaign's own texts; a subscriber with
// no locale learns the keyword's, and a stored one is never overwritten.
import { beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../generated/gql.ts";
import { testApp } from "../support/app.ts";
import { createSender, disclosures } from "../support/fixtures.ts";
import { failure, newOrganization, ok, rowCounts } from "../support/graphql.ts";
import { ActivateCampaign, ReceiveInboundMessage } from "../support/documents.ts";

const SPANISH = {
  locale: "es",
  helpText:
    "Acme Deals: ayuda en support@acme.example. Msg & data rates may apply. Responde STOP para cancelar.",
  optInConfirmation: "Acme Deals: ¡ya estás suscrito! Responde STOP para cancelar.",
  optOutConfirmation: "Acme Deals: ya no recibirás más mensajes. Responde START para volver.",
};
const FRENCH = {
  locale: "fr-CA",
  helpText:
    "Acme Deals : aide à support@acme.example. Msg & data rates may apply. STOP pour arrêter.",
  optInConfirmation: "Acme Deals : vous êtes inscrit! STOP pour arrêter.",
  optOutConfirmation: "Acme Deals : vous êtes désabonné.",
};

const CreateCampaign = graphql(`
  mutation LangCreateCampaign($input: CreateCampaignInput!) {
    createCampaign(input: $input) {
      campaign {
        id
        disclosures {
          version
          translations {
            locale
            helpText
            optInConfirmation
            optOutConfirmation
          }
        }
      }
    }
  }
`);

const Locale = graphql(`
  query LangSubscriberLocale($phone: String!) {
    subscriber(phone: $phone) {
      locale
    }
  }
`);

beforeAll(() => testApp(), 120_000);

async function campaignWith(key: string, translations: (typeof SPANISH)[]) {
  const sender = await createSender(key);
  const created = await ok(key, CreateCampaign, {
    input: {
      name: `Deals ${Math.random()}`,
      purpose: "MARKETING",
      senderId: sender.id,
      keywords: ["DEALS"],
      disclosures: { ...disclosures(), translations },
    },
  });
  await ok(key, ActivateCampaign, { id: created.createCampaign.campaign.id });
  return { sender, campaign: created.createCampaign.campaign };
}

const english = disclosures();

describe("replies in the subscriber's language", () => {
  it("stores translations with the disclosures, canonical locales", async () => {
    const org = await newOrganization();
    const { campaign } = await campaignWith(org.adminKey, [
      SPANISH,
      { ...FRENCH, locale: "FR-ca" },
    ]);
    expect(campaign.disclosures.translations).toEqual([SPANISH, FRENCH]);
  });

  it("answers BAJA in Spanish, learns es, and keeps answering in Spanish", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const { sender } = await campaignWith(key, [SPANISH, FRENCH]);
    const phone = "+14155550131";
    const send = async (body: string) =>
      (await ok(key, ReceiveInboundMessage, { input: { from: phone, to: sender.address, body } }))
        .receiveInboundMessage;
    const locale = async () => (await ok(key, Locale, { phone })).subscriber?.locale;

    // a join keyword tells no language: the campaign's own text, nothing learned
    expect((await send("DEALS")).reply).toBe(english.optInConfirmation);
    expect(await locale()).toBeNull();

    const baja = await send("Baja");
    expect(baja.keywordEvent).toMatchObject({ intent: "OPT_OUT", keyword: "BAJA" });
    expect(baja.reply).toBe(SPANISH.optOutConfirmation);
    expect(await locale()).toBe("es");

    // START is English, but the stored locale wins, and is not overwritten
    expect((await send("START")).reply).toBe(SPANISH.optInConfirmation);
    // the HELP reply is the Spanish help text, with the required elements it lacks (frequency)
    expect((await send("HELP")).reply).toBe(`${SPANISH.helpText} Up to 4 msgs/month.`);
    expect(await locale()).toBe("es");
  });

  it("answers a French keyword with the fr-CA texts (same language)", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const { sender } = await campaignWith(key, [SPANISH, FRENCH]);
    const phone = "+14155550132";
    await ok(key, ReceiveInboundMessage, {
      input: { from: phone, to: sender.address, body: "DEALS" },
    });
    const reply = await ok(key, ReceiveInboundMessage, {
      input: { from: phone, to: sender.address, body: "Arrêt" },
    });
    expect(reply.receiveInboundMessage.reply).toBe(FRENCH.optOutConfirmation);
    expect((await ok(key, Locale, { phone })).subscriber?.locale).toBe("fr");
  });

  it("falls back to the campaign's own texts when it has no translation in that language", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const { sender } = await campaignWith(key, [FRENCH]);
    const phone = "+14155550133";
    await ok(key, ReceiveInboundMessage, {
      input: { from: phone, to: sender.address, body: "DEALS" },
    });
    const reply = await ok(key, ReceiveInboundMessage, {
      input: { from: phone, to: sender.address, body: "BAJA" },
    });
    expect(reply.receiveInboundMessage.reply).toBe(english.optOutConfirmation);
    // the language is still learned: a later translation will be used
    expect((await ok(key, Locale, { phone })).subscriber?.locale).toBe("es");
  });

  it.each([
    [[{ ...SPANISH, locale: "not a locale!" }], "input.disclosures.translations[0].locale"],
    [[SPANISH, { ...SPANISH, locale: "ES" }], "input.disclosures.translations[1].locale"],
    [
      [{ ...SPANISH, optOutConfirmation: " " }],
      "input.disclosures.translations[0].optOutConfirmation",
    ],
  ])("refuses bad translations %j, naming %s, and writes nothing", async (translations, field) => {
    const org = await newOrganization();
    const sender = await createSender(org.adminKey);
    const before = await rowCounts(org.rowId);
    const error = await failure(org.adminKey, CreateCampaign, {
      input: {
        name: "Bad translations",
        purpose: "MARKETING",
        senderId: sender.id,
        disclosures: { ...disclosures(), translations },
      },
    });
    expect(error.extensions?.code).toBe("BAD_USER_INPUT");
    expect(error.message).toContain(field);
    expect(await rowCounts(org.rowId)).toEqual(before);
  });
});
