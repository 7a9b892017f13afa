// Live delivery over both transports (graphql-ws and SSE): what a subscription receives is exactly
// the matching ledger rows in sequence order — filtered by campaign or subscriber, never another
// organization's, only a PARTNER key's campaigns — with cursors that name the sequence. A write
// that fails puts nothing on the stream. keywordEventReceived does the same for inbound messages.
import { beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.ts";
import { testApp } from "../support/app.ts";
import { createCampaign, createSender } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import {
  baseOf,
  ConsentChanged,
  cursorText,
  KeywordEventReceived,
  must,
  opened,
  phoneAt,
  post,
  subscribe,
  TRANSPORTS,
  until,
  type Delivered,
  type Transport,
} from "./support.ts";
import {
  ConfirmOptIn,
  CreateApiKey,
  OptIn,
  OptOut,
  ReceiveInboundMessage,
} from "../support/documents.ts";

interface ConsentItem extends Delivered {
  fromStatus: string | null;
  toStatus: string;
  method: string;
  campaign: { id: string } | null;
  subscriber: { id: string; phone: string };
}

interface KeywordItem extends Delivered {
  body: string;
  intent: string;
  from: string;
  campaigns: { id: string }[];
}

let app: App;
let base: string;
beforeAll(async () => {
  app = await testApp();
  base = baseOf(app);
});

const optIn = async (key: string, campaignId: string, phone: string) => {
  const d = await must(base, key, OptIn, { input: { phone, campaignId, method: "API" } });
  expect(d.optIn.event).toBeTruthy();
  return { ...d.optIn.event!, subscriberId: d.optIn.consent.subscriber.id, campaignId };
};

const optOut = async (key: string, campaignId: string, phone: string) => {
  const d = await must(base, key, OptOut, { input: { phone, campaignId, method: "API" } });
  expect(d.optOut.events).toHaveLength(1);
  return { ...d.optOut.events[0], campaignId };
};

const newKey = async (adminKey: string, role: "PARTNER" | "VIEWER", campaignIds?: string[]) =>
  (
    await must(base, adminKey, CreateApiKey, {
      input: { name: `${role} ${Date.now()}`, role, campaignIds },
    })
  ).createApiKey.secret;

/** A subscription's first result must be a GraphQL error with this code, and nothing stays open. */
async function refusedSubscription(
  transport: Transport,
  key: string,
  variables: Record<string, unknown>,
  code: string,
) {
  const before = app.runtime.streams.consentEvents.size;
  const feed = subscribe({ transport, base, key, document: ConsentChanged, variables });
  try {
    const error = (await feed.waitForError(5000)) as { extensions?: { code?: string } };
    expect(error.extensions?.code, JSON.stringify(error)).toBe(code);
    expect(feed.items).toEqual([]);
  } finally {
    await feed.close();
  }
  await until(
    () => app.runtime.streams.consentEvents.size <= before,
    "no subscription left open after a refused subscribe",
  );
}

describe.each(TRANSPORTS)("consentChanged over %s", (transport) => {
  it("delivers each committed event once, in sequence order, with a cursor naming its sequence", async () => {
    const org = await newOrganization();
    const [c1, c2] = [await createCampaign(org.adminKey), await createCampaign(org.adminKey)];
    const feed = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: org.adminKey,
      document: ConsentChanged,
      variables: {},
    });
    try {
      const written = [
        await optIn(org.adminKey, c1.id, phoneAt(0)),
        await optIn(org.adminKey, c2.id, phoneAt(1)),
        await optOut(org.adminKey, c1.id, phoneAt(0)),
      ];
      const items = await feed.waitFor(3);
      expect(items.map((e) => e.id)).toEqual(written.map((e) => e.id));
      expect(items.map((e) => e.sequence)).toEqual([1, 2, 3]);
      for (const item of items) {
        expect(cursorText(item.cursor)).toBe(`ce:${item.sequence}`);
      }
      expect(items.map((e) => e.campaign?.id)).toEqual([c1.id, c2.id, c1.id]);
      expect(items.map((e) => [e.fromStatus, e.toStatus])).toEqual([
        [null, "OPTED_IN"],
        [null, "OPTED_IN"],
        ["OPTED_IN", "OPTED_OUT"],
      ]);
      expect(items[0].subscriber.phone).toBe(phoneAt(0));
      expect(items.map((e) => e.cursor)).toEqual(written.map((e) => e.cursor));
    } finally {
      await feed.close();
    }
  });

  it("delivers only the campaign's events with campaignId", async () => {
    const org = await newOrganization();
    const [c1, c2] = [await createCampaign(org.adminKey), await createCampaign(org.adminKey)];
    const feed = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: org.adminKey,
      document: ConsentChanged,
      variables: { campaignId: c1.id },
    });
    try {
      await optIn(org.adminKey, c2.id, phoneAt(0));
      const first = await optIn(org.adminKey, c1.id, phoneAt(0));
      await optIn(org.adminKey, c2.id, phoneAt(1));
      await optOut(org.adminKey, c2.id, phoneAt(0));
      // written last: anything of c2 delivered would arrive before it
      const last = await optIn(org.adminKey, c1.id, phoneAt(1));
      const items = await feed.waitFor(2);
      expect(items.map((e) => e.id)).toEqual([first.id, last.id]);
      expect(items.map((e) => e.sequence)).toEqual([2, 5]);
      expect(new Set(items.map((e) => e.campaign?.id))).toEqual(new Set([c1.id]));
    } finally {
      await feed.close();
    }
  });

  it("delivers only the subscriber's events with subscriberId", async () => {
    const org = await newOrganization();
    const [c1, c2] = [await createCampaign(org.adminKey), await createCampaign(org.adminKey)];
    const watched = await optIn(org.adminKey, c1.id, phoneAt(0));
    await optIn(org.adminKey, c1.id, phoneAt(1));
    const feed = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: org.adminKey,
      document: ConsentChanged,
      variables: { subscriberId: watched.subscriberId },
    });
    try {
      await optOut(org.adminKey, c1.id, phoneAt(1));
      const a = await optIn(org.adminKey, c2.id, phoneAt(0));
      await optIn(org.adminKey, c2.id, phoneAt(1));
      const b = await optOut(org.adminKey, c1.id, phoneAt(0));
      const items = await feed.waitFor(2);
      expect(items.map((e) => e.id)).toEqual([a.id, b.id]);
      expect(items.every((e) => e.subscriber.id === watched.subscriberId)).toBe(true);
      expect(items.every((e) => e.subscriber.phone === phoneAt(0))).toBe(true);
    } finally {
      await feed.close();
    }
  });

  it("never delivers another organization's events, and its ids read as NOT_FOUND", async () => {
    const a = await newOrganization();
    const b = await newOrganization();
    const ca = await createCampaign(a.adminKey);
    const cb = await createCampaign(b.adminKey);
    const aEvent = await optIn(a.adminKey, ca.id, phoneAt(0));
    const feed = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: b.adminKey,
      document: ConsentChanged,
      variables: {},
    });
    try {
      for (let i = 1; i <= 5; i++) await optIn(a.adminKey, ca.id, phoneAt(i));
      // the same phone in B: a different subscriber, B's own event
      const own = await optIn(b.adminKey, cb.id, phoneAt(0));
      const items = await feed.waitFor(1);
      // give A's events every chance to show up late
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(feed.errors).toEqual([]);
      expect(items.map((e) => e.id)).toEqual([own.id]);
      expect(items[0].sequence).toBe(1);
    } finally {
      await feed.close();
    }
    await refusedSubscription(transport, b.adminKey, { campaignId: ca.id }, "NOT_FOUND");
    await refusedSubscription(
      transport,
      b.adminKey,
      { subscriberId: aEvent.subscriberId },
      "NOT_FOUND",
    );
  });

  it("gives a PARTNER key only its campaigns' events, and other campaigns read as NOT_FOUND", async () => {
    const org = await newOrganization();
    const [c1, c2] = [await createCampaign(org.adminKey), await createCampaign(org.adminKey)];
    const partner = await newKey(org.adminKey, "PARTNER", [c1.id]);
    const feed = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: partner,
      document: ConsentChanged,
      variables: {},
    });
    try {
      await optIn(org.adminKey, c2.id, phoneAt(0));
      const first = await optIn(org.adminKey, c1.id, phoneAt(0));
      await optIn(org.adminKey, c2.id, phoneAt(1));
      // an organization-wide opt-out touches both campaigns: the partner sees only c1's event
      const all = await must(base, org.adminKey, OptOut, {
        input: { phone: phoneAt(0), scope: "ORGANIZATION", method: "API" },
      });
      expect(all.optOut.events.length).toBeGreaterThanOrEqual(1);
      const last = await optIn(org.adminKey, c1.id, phoneAt(2));
      const items = await feed.waitFor(3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(feed.errors).toEqual([]);
      expect(items).toHaveLength(3);
      expect(items[0].id).toBe(first.id);
      expect(items[2].id).toBe(last.id);
      expect(items.every((e) => e.campaign?.id === c1.id)).toBe(true);
      expect(items[1].toStatus).toBe("OPTED_OUT");
    } finally {
      await feed.close();
    }
    await refusedSubscription(transport, partner, { campaignId: c2.id }, "NOT_FOUND");
  });

  it("lets a VIEWER key subscribe", async () => {
    const org = await newOrganization();
    const c1 = await createCampaign(org.adminKey);
    const viewer = await newKey(org.adminKey, "VIEWER");
    const feed = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: viewer,
      document: ConsentChanged,
      variables: { campaignId: c1.id },
    });
    try {
      const written = await optIn(org.adminKey, c1.id, phoneAt(0));
      const items = await feed.waitFor(1);
      expect(items.map((e) => e.id)).toEqual([written.id]);
      // and it still cannot write
      const refused = await post(base, viewer, OptIn, {
        input: { phone: phoneAt(1), campaignId: c1.id, method: "API" },
      });
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    } finally {
      await feed.close();
    }
  });

  it("puts nothing on the stream for a write that fails or changes nothing", async () => {
    const org = await newOrganization();
    const c1 = await createCampaign(org.adminKey);
    const before = await optIn(org.adminKey, c1.id, phoneAt(0));
    const feed = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: org.adminKey,
      document: ConsentChanged,
      variables: {},
    });
    try {
      const badPhone = await post(base, org.adminKey, OptIn, {
        input: { phone: "not a phone", campaignId: c1.id, method: "API" },
      });
      expect(badPhone.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      const noPending = await post(base, org.adminKey, ConfirmOptIn, {
        input: {
          phone: phoneAt(1),
          campaignId: c1.id,
          message: { from: phoneAt(1), body: "Y", providerMessageId: `SM-${Date.now()}` },
        },
      });
      expect(noPending.errors?.[0]?.extensions?.code).toBe("CONFLICT");
      // already in: changed false, no event
      const again = await must(base, org.adminKey, OptIn, {
        input: { phone: phoneAt(0), campaignId: c1.id, method: "API" },
      });
      expect(again.optIn.changed).toBe(false);
      const sentinel = await optIn(org.adminKey, c1.id, phoneAt(2));
      expect(sentinel.sequence).toBe(before.sequence + 1);
      const items = await feed.waitFor(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(feed.errors).toEqual([]);
      expect(items.map((e) => e.id)).toEqual([sentinel.id]);
    } finally {
      await feed.close();
    }
  });
});

describe.each(TRANSPORTS)("keywordEventReceived over %s", (transport) => {
  it("delivers processed inbound messages, filtered by campaign, with keyword cursors", async () => {
    const org = await newOrganization();
    const s1 = await createSender(org.adminKey);
    const s2 = await createSender(org.adminKey);
    const c1 = await createCampaign(org.adminKey, { senderId: s1.id, keywords: ["DEALS"] });
    const c2 = await createCampaign(org.adminKey, { senderId: s2.id });
    const open = (variables: Record<string, unknown>) =>
      opened<KeywordItem>(app, "keywordEvents", {
        transport,
        base,
        key: org.adminKey,
        document: KeywordEventReceived,
        variables,
      });
    const filtered = await open({ campaignId: c1.id });
    const all = await open({});
    const consent = await opened<ConsentItem>(app, "consentEvents", {
      transport,
      base,
      key: org.adminKey,
      document: ConsentChanged,
      variables: {},
    });
    try {
      const inbound = async (to: string, body: string, from = phoneAt(0)) =>
        (await must(base, org.adminKey, ReceiveInboundMessage, { input: { from, to, body } }))
          .receiveInboundMessage.keywordEvent;
      const sent = [
        await inbound(s2.address, "HELP"),
        await inbound(s1.address, "DEALS"),
        await inbound(s2.address, "HELP", phoneAt(1)),
        await inbound(s1.address, "HELP"),
      ];
      // a message to an unknown sender fails and is not logged
      const unknown = await post(base, org.adminKey, ReceiveInboundMessage, {
        input: { from: phoneAt(0), to: "+14155559999", body: "HELP" },
      });
      expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      const last = await inbound(s2.address, "HELP");
      const everything = await all.waitFor(5);
      expect(everything.map((e) => e.id)).toEqual([...sent, last].map((e) => e.id));
      expect(everything.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
      for (const item of everything) expect(cursorText(item.cursor)).toBe(`ke:${item.sequence}`);

      const mine = await filtered.waitFor(2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(filtered.errors).toEqual([]);
      expect(mine.map((e) => e.id)).toEqual([sent[1].id, sent[3].id]);
      expect(mine.map((e) => e.body)).toEqual(["DEALS", "HELP"]);
      expect(mine.map((e) => e.intent)).toEqual(["OPT_IN", "HELP"]);
      expect(mine.every((e) => e.campaigns.some((c) => c.id === c1.id))).toBe(true);
      expect(everything[0].campaigns.map((c) => c.id)).toEqual([c2.id]);

      // the keyword opt-in also went to the consent stream, once
      const consents = await consent.waitFor(1);
      expect(consents.map((e) => [e.method, e.toStatus, e.campaign?.id])).toEqual([
        ["KEYWORD", "OPTED_IN", c1.id],
      ]);
    } finally {
      await Promise.all([filtered.close(), all.close(), consent.close()]);
    }
  });

  it("reads another organization's campaign as NOT_FOUND", async () => {
    const a = await newOrganization();
    const b = await newOrganization();
    const ca = await createCampaign(a.adminKey);
    const feed = subscribe({
      transport,
      base,
      key: b.adminKey,
      document: KeywordEventReceived,
      variables: { campaignId: ca.id },
    });
    try {
      const error = (await feed.waitForError(5000)) as { extensions?: { code?: string } };
      expect(error.extensions?.code).toBe("NOT_FOUND");
    } finally {
      await feed.close();
    }
  });
});
