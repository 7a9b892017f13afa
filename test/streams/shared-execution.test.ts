// Fan-out executes each event once per distinct (document, variables, visibility), not once per
// subscriber: six subscribers of one organization with the same selection — which reads each
// event's subscriber, one SQL statement per execution — cost one such read per event, over both
// transports; a subscriber with other variables, or a key of another scope, gets its own.
import { beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.ts";
import { PLATFORM_KEY, recordQueries, testApp } from "../support/app.ts";
import {
  baseOf,
  ConsentChanged,
  must,
  opened,
  phoneAt,
  setupOrganization,
  type Delivered,
  type Feed,
} from "./support.ts";
import { OptIn } from "../support/documents.ts";

let app: App;
let base: string;
beforeAll(async () => {
  app = await testApp();
  base = baseOf(app);
});

interface Item extends Delivered {
  subscriber: { id: string; phone: string };
}

/** Statements that read subscribers for the delivered events (not the stream's own ledger reads). */
const subscriberReads = (queries: string[]) =>
  queries.filter((sql) => /from "public"\."Subscriber"/i.test(sql) && !/insert|update/i.test(sql));

/** Subscribes `count` feeds of one new organization, writes `events` opt-ins, and counts reads. */
async function deliver(count: number, events: number) {
  const org = await setupOrganization(base, PLATFORM_KEY);
  const feeds: Feed<Item>[] = [];
  for (let i = 0; i < count; i++) {
    feeds.push(
      await opened<Item>(app, "consentEvents", {
        transport: i % 2 === 0 ? "ws" : "sse",
        base,
        key: org.key,
        document: ConsentChanged,
        variables: {},
      }),
    );
  }
  try {
    const { queries } = await recordQueries(async () => {
      for (let i = 0; i < events; i++) {
        await must(base, org.key, OptIn, {
          input: { phone: phoneAt(i), campaignId: org.campaignId, method: "API" },
        });
      }
      await Promise.all(feeds.map((feed) => feed.waitFor(events, 20_000)));
    });
    // every subscriber got every event, with its subscriber read
    for (const feed of feeds) {
      expect(feed.items.map((item) => item.subscriber.phone)).toEqual(
        Array.from({ length: events }, (_, i) => phoneAt(i)),
      );
    }
    return subscriberReads(queries).length;
  } finally {
    await Promise.all(feeds.map((feed) => feed.close()));
  }
}

describe("shared execution of events", () => {
  it("costs six same subscribers (ws and SSE) what one costs", async () => {
    const one = await deliver(1, 3);
    const six = await deliver(6, 3);
    // without sharing, each of the five more subscribers would read each event's subscriber
    expect(six).toBe(one);
  });
});
