// The WebSocket transport of a production-configured server against a misbehaving client: a bad
// operation is refused alone (the connection and its other subscriptions go on, nothing is
// printed), the query-size limit is HTTP's, introspection and suggestions are off, and a key's
// connections and a connection's subscriptions are capped.
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { TOO_MANY_CONNECTIONS_CLOSE } from "../../src/http/live-connections.ts";
import { PLATFORM_KEY, testEnv } from "../support/app.ts";
import {
  baseOf,
  ConsentChangedLean,
  ledgerWriter,
  setupOrganization,
  subscribe,
  until,
} from "../streams/support.ts";

let app: App;
let base: string;

beforeAll(async () => {
  app = await startApp(
    loadConfig(
      testEnv({
        NODE_ENV: "production",
        LOG_LEVEL: "silent",
        OPTGRAPH_MAX_CONNECTIONS_PER_KEY: "3",
        OPTGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION: "3",
      }),
    ),
    { logError: () => undefined },
  );
  base = baseOf(app);
});
afterAll(() => app?.stop());

interface Outcome {
  results: { data?: any; errors?: any[] }[];
  /** the operation's `error` message (an array of GraphQL errors) */
  error?: any;
  done: boolean;
}

/** One operation on a connection; its results and its end are filled in as they come. */
function operation(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const outcome: Outcome = { results: [], done: false };
  client.subscribe(
    { query, variables },
    {
      next: (result) => void outcome.results.push(result as never),
      error: (error) => {
        outcome.error = error;
        outcome.done = true;
      },
      complete: () => void (outcome.done = true),
    },
  );
  return outcome;
}

function connect(key: string, closes: { code: number; reason: string }[] = []) {
  let connected = false;
  const client = createClient({
    url: `${base.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: {
      connected: () => void (connected = true),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closes.push({ code, reason: String(reason) });
      },
    },
  });
  return { client, closes, connected: () => connected };
}

const codesOf = (outcome: Outcome) =>
  (outcome.error as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code);

describe("one bad operation on a WebSocket", () => {
  it("is answered with an error message; the connection and its subscription go on, nothing printed", async () => {
    const org = await setupOrganization(base, PLATFORM_KEY);
    const printed = vi.spyOn(console, "error");
    const { client, closes } = connect(org.key);
    try {
      const live = operation(
        client,
        "subscription ($c: ID) { consentChanged(campaignId: $c) { id sequence } }",
        { c: org.campaignId },
      );
      await until(() => app.runtime.streams.consentEvents.size > 0, "the subscription to open");
      // one at a time: the connection's cap (3) holds the live subscription and one more
      const bad: Outcome[] = [];
      for (const query of [
        "{ viewer { role ",
        `{ viewer { role } }\n#${"x".repeat(25_000)}`,
        `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { role }`).join(" ")} }`,
        "{ __schema { types { name } } }",
        "{ viewer { rol } }",
      ]) {
        const outcome = operation(client, query);
        await until(() => outcome.done, `an answer to ${query.slice(0, 40)}`);
        bad.push(outcome);
      }
      for (const outcome of bad) {
        expect(outcome.results).toEqual([]);
        expect([...new Set(codesOf(outcome))]).toEqual(["BAD_USER_INPUT"]);
        expect(JSON.stringify(outcome.error)).not.toMatch(/Did you mean|"role"/);
      }
      expect(JSON.stringify(bad[1].error)).toContain("too long");

      await ledgerWriter(base, org.key, org.campaignId, 1).write(2);
      await until(() => live.results.length === 2, "the subscription to go on delivering");
      expect(closes).toEqual([]);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
      await client.dispose();
    }
  });
});

describe("caps", () => {
  it("refuses a subscription over the connection's cap with RATE_LIMITED and keeps the others", async () => {
    const org = await setupOrganization(base, PLATFORM_KEY);
    const { client, closes } = connect(org.key);
    try {
      const query = "subscription ($c: ID) { consentChanged(campaignId: $c) { id } }";
      const open = [0, 1, 2].map(() => operation(client, query, { c: org.campaignId }));
      await until(() => app.runtime.streams.consentEvents.size >= 3, "three subscriptions to open");
      const over = operation(client, query, { c: org.campaignId });
      await until(() => over.done, "the fourth subscription to be answered");
      expect(codesOf(over)).toEqual(["RATE_LIMITED"]);
      await ledgerWriter(base, org.key, org.campaignId, 1).write(1);
      await until(() => open.every((o) => o.results.length === 1), "the three to deliver");
      expect(closes).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it("closes a connection over the key's cap with 4429, and refuses an SSE stream over it", async () => {
    const org = await setupOrganization(base, PLATFORM_KEY);
    const held = [connect(org.key), connect(org.key), connect(org.key)];
    try {
      await until(() => held.every((c) => c.connected()), "three connections");
      const over = connect(org.key);
      await until(() => over.closes.length > 0, "the fourth connection to be closed");
      expect(over.closes[0]).toEqual(TOO_MANY_CONNECTIONS_CLOSE);
      expect(over.connected()).toBe(false);

      const sse = subscribe({
        transport: "sse",
        base,
        key: org.key,
        document: ConsentChangedLean,
        variables: { campaignId: org.campaignId },
      });
      const error = (await sse.waitForError()) as { extensions?: { code?: string } };
      expect(error.extensions?.code).toBe("RATE_LIMITED");
      await sse.close();

      // the connections it holds stay open
      expect(held.every((c) => c.closes.length === 0)).toBe(true);
    } finally {
      await Promise.all(held.map((c) => c.client.dispose()));
    }
    // once they are gone the key may connect again
    const again = connect(org.key);
    try {
      await until(() => again.connected() || again.closes.length > 0, "a new connection");
      expect(again.connected()).toBe(true);
    } finally {
      await again.client.dispose();
    }
  });
});
