// An instance's own commits reach its live streams without being read back: the ledger writer
// hands the rows it committed to this instance's tailers, as the table gives them back. What a
// subscriber gets live must be exactly what it gets when the same event is replayed from the table
// (evidence in jsonb's key order, dates, hashes).
import { beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.ts";
import { graphql } from "../generated/gql.ts";
import { testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { OptIn } from "../support/documents.ts";
import { baseOf, consentCursor, must, opened, phoneAt } from "./support.ts";

const ConsentChangedWhole = graphql(`
  subscription OwnCommitsConsentChanged($after: String) {
    consentChanged(after: $after) {
      id
      cursor
      sequence
      fromStatus
      toStatus
      method
      occurredAt
      recordedAt
      evidence
      prevHash
      hash
    }
  }
`);

let app: App;
let base: string;
beforeAll(async () => {
  app = await testApp();
  base = baseOf(app);
});

describe("an instance's own commits on its live streams", () => {
  it("are delivered exactly as replayed from the ledger", async () => {
    const org = await newOrganization();
    const key = org.adminKey;
    const campaign = await createCampaign(key);
    // keys of every length and script, nested, in an order jsonb does not keep
    const evidence = {
      zeta: 1,
      a: { ü: true, bb: [{ y: 1, x: 2, ab: "é" }], "10": "n", é: 0.5 },
      mid: "x",
      "": null,
      ab: 2.5,
      Z: [3, { k: -0 }],
    };
    const live = await opened(app, "consentEvents", {
      transport: "ws",
      base,
      key,
      document: ConsentChangedWhole,
      variables: {},
    });
    const optIn = (phone: string) =>
      must(base, key, OptIn, {
        input: { phone, campaignId: campaign.id, method: "API", evidence },
      });
    try {
      // the first event puts the stream's tailer in place (its first read is of the log); the
      // second is handed over as it committed (that no read is sent for it is seam.test.ts's
      // case E, where no poll can land in between)
      await optIn(phoneAt(1));
      await live.waitFor(1);
      await optIn(phoneAt(2));
      await live.waitFor(2);

      const replayed = await opened(app, "consentEvents", {
        transport: "ws",
        base,
        key,
        document: ConsentChangedWhole,
        variables: { after: consentCursor(0) },
      });
      try {
        const again = await replayed.waitFor(2);
        expect(JSON.stringify(live.items)).toBe(JSON.stringify(again));
        // as the table keeps it: keys shortest first, then by their UTF-8 bytes (the service adds
        // the consent language it was given under)
        expect(again[1].evidence).toMatchObject({ ...evidence, Z: [3, { k: 0 }] });
        expect(Object.keys(again[1].evidence as object)).toEqual([
          "",
          "Z",
          "a",
          "ab",
          "mid",
          "zeta",
          "consentLanguage",
        ]);
        // ("10" first: JavaScript keeps integer-like keys first in any object)
        expect(Object.keys((again[1].evidence as { a: object }).a)).toEqual(["10", "bb", "é", "ü"]);
      } finally {
        await replayed.close();
      }
    } finally {
      await live.close();
    }
  });
});
