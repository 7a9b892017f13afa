// The graphql-transport-ws protocol as graphql-ws's PROTOCOL.md states it, spoken by hand over a
// raw `ws` socket against our server: each violation closes the socket with its code. And after
// many abrupt disconnects (sockets terminated with subscriptions live, in replay, or still being
// set up; SSE requests aborted) the server holds no subscription.
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { App } from "../../src/app.ts";
import { engine, onceAcrossEngines, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import {
  baseOf,
  ConsentChangedLean,
  consentCursor,
  ledgerWriter,
  subscribe,
  until,
} from "./support.ts";

const PROTOCOL = "graphql-transport-ws";
const SUBSCRIPTION = "subscription { consentChanged { id sequence } }";
// without `cursor`, which costs a read per event per subscriber (see ConsentChangedBare)
const BARE = "subscription ($after: String) { consentChanged(after: $after) { id sequence } }";
const errorsOf = (sockets: Raw[]) =>
  sockets.flatMap((socket) =>
    socket.messages.filter((m) => m.type === "error" || (m.type === "next" && m.payload.errors)),
  ).length;

interface Raw {
  ws: WebSocket;
  messages: { type: string; id?: string; payload?: any }[];
  closed: Promise<{ code: number; reason: string; at: number }>;
  opened: Promise<void>;
  send(message: unknown): void;
  /** resolves with the first message of this type */
  next(type: string, timeoutMs?: number): Promise<{ type: string; id?: string; payload?: any }>;
}

let app: App;
let url: string;
let key: string;
let campaignId: string;

/** `protocols` null: offer no subprotocol at all */
function raw(protocols: string | string[] | null = PROTOCOL): Raw {
  const ws = protocols === null ? new WebSocket(url) : new WebSocket(url, protocols);
  const messages: Raw["messages"] = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data))));
  ws.on("error", () => undefined);
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    ws.once("close", (code, reason) =>
      resolve({ code, reason: reason.toString(), at: performance.now() }),
    ),
  );
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    messages,
    closed,
    opened,
    send: (message) => ws.send(typeof message === "string" ? message : JSON.stringify(message)),
    async next(type, timeoutMs = 20_000) {
      await until(
        () => messages.some((m) => m.type === type) || ws.readyState === WebSocket.CLOSED,
        `a ${type} message`,
        timeoutMs,
        5,
      );
      const found = messages.find((m) => m.type === type);
      if (!found) throw new Error(`socket closed without a ${type} message`);
      return found;
    },
  };
}

/** Open, initialised with the organization's key, acknowledged. */
async function acked(secret = key): Promise<Raw> {
  const socket = raw();
  await socket.opened;
  socket.send({ type: "connection_init", payload: { authorization: `Bearer ${secret}` } });
  await socket.next("connection_ack");
  return socket;
}

const streams = () => app.runtime.streams.consentEvents;

beforeAll(async () => {
  app = await testApp();
  url = `ws://127.0.0.1:${app.server.port}/graphql`;
  const org = await newOrganization();
  key = org.adminKey;
  campaignId = (await createCampaign(key)).id;
});

// the protocol's close codes do not depend on the database: once
describe.runIf(onceAcrossEngines)("graphql-transport-ws close codes", () => {
  it("closes with 4408 when no ConnectionInit arrives within the timeout (3 s)", async () => {
    const socket = raw();
    await socket.opened;
    const openedAt = performance.now();
    const { code, reason, at } = await socket.closed;
    expect(code).toBe(4408);
    expect(reason).toBe("Connection initialisation timeout");
    expect(at - openedAt).toBeGreaterThan(2_500);
    expect(at - openedAt).toBeLessThan(6_000);
    expect(socket.messages).toEqual([]);
  });

  it("closes with 4429 on a second ConnectionInit", async () => {
    const socket = await acked();
    socket.send({ type: "connection_init", payload: { authorization: `Bearer ${key}` } });
    const { code, reason } = await socket.closed;
    expect(code).toBe(4429);
    expect(reason).toBe("Too many initialisation requests");
  });

  it("closes with 4401 on a Subscribe before the ack", async () => {
    const socket = raw();
    await socket.opened;
    socket.send({ id: "1", type: "subscribe", payload: { query: SUBSCRIPTION } });
    const { code, reason } = await socket.closed;
    expect(code).toBe(4401);
    expect(reason).toBe("Unauthorized");
    expect(socket.messages).toEqual([]);
  });

  it("closes with 4409 when a Subscribe reuses an active id, and releases the subscription", async () => {
    const idle = streams().size;
    const socket = await acked();
    socket.send({ id: "same", type: "subscribe", payload: { query: SUBSCRIPTION } });
    await until(() => streams().size === idle + 1, "the first subscription to open");
    socket.send({ id: "same", type: "subscribe", payload: { query: SUBSCRIPTION } });
    const { code, reason } = await socket.closed;
    expect(code).toBe(4409);
    expect(reason).toBe("Subscriber for same already exists");
    await until(() => streams().size === idle, "the subscription to end with the socket");
  });

  it("allows an id again once its subscription completed", async () => {
    const socket = await acked();
    socket.send({ id: "again", type: "subscribe", payload: { query: "{ __typename }" } });
    await socket.next("complete");
    socket.send({ id: "again", type: "subscribe", payload: { query: "{ __typename }" } });
    await until(() => socket.messages.filter((m) => m.type === "complete").length === 2, "2nd");
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close();
  });

  it("closes with 4406 without the graphql-transport-ws subprotocol", async () => {
    const socket = raw(null);
    await socket.opened;
    const { code, reason } = await socket.closed;
    expect(code).toBe(4406);
    expect(reason).toBe("Subprotocol not acceptable");
  });

  it("does not agree to another subprotocol (the legacy graphql-ws)", async () => {
    // PROTOCOL.md says 4406; the server declines the subprotocol in the handshake instead (no
    // Sec-WebSocket-Protocol in its answer), which a conforming client treats as a failed
    // handshake before any close code can arrive. Either way the connection is not served.
    const socket = raw("graphql-ws");
    const error = await socket.opened.then(
      () => null,
      (e: Error) => e,
    );
    const { code } = await socket.closed;
    expect(error?.message).toMatch(/no subprotocol/i);
    expect([1006, 4406]).toContain(code);
    expect(socket.messages).toEqual([]);
  });

  it.each([
    ["not JSON", "{ this is not json"],
    ["JSON that is not a message", "[1, 2, 3]"],
    ["a message without a type", JSON.stringify({ payload: {} })],
    ["a message of an unknown type", JSON.stringify({ type: "bogus" })],
    [
      "a Subscribe without an id",
      JSON.stringify({ type: "subscribe", payload: { query: "{ __typename }" } }),
    ],
  ])("closes with 4400 on %s", async (_name, message) => {
    const socket = await acked();
    socket.send(message);
    const { code, reason } = await socket.closed;
    expect(code).toBe(4400);
    expect(reason).toBe("Invalid message received");
  });

  it.each([
    ["a wrong key", { authorization: "Bearer og_not_a_real_key_0123456789" }],
    ["a malformed header", { authorization: "Basic abc" }],
    ["no key at all", {}],
  ])("closes with 4403 on ConnectionInit with %s", async (_name, payload) => {
    const socket = raw();
    await socket.opened;
    socket.send({ type: "connection_init", payload });
    const { code, reason } = await socket.closed;
    expect(code).toBe(4403);
    expect(reason).toBe("Forbidden");
    expect(socket.messages.map((m) => m.type)).not.toContain("connection_ack");
  });

  it("answers a ping with a pong carrying its payload, before and after the ack", async () => {
    const socket = raw();
    await socket.opened;
    socket.send({ type: "ping", payload: { n: 1 } });
    expect(await socket.next("pong")).toEqual({ type: "pong", payload: { n: 1 } });
    socket.send({ type: "connection_init", payload: { authorization: `Bearer ${key}` } });
    await socket.next("connection_ack");
    socket.messages.length = 0;
    socket.send({ type: "ping" });
    expect(await socket.next("pong")).toEqual({ type: "pong" });
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close();
  });
});

describe("abrupt disconnects", () => {
  // 1,000 subscriptions on PostgreSQL, 400 on PGlite (which opens them one statement at a time)
  const SOCKETS = engine === "postgres" ? 50 : 20;
  const PER_SOCKET = 20;

  it(
    `holds no subscription after ${SOCKETS * PER_SOCKET} live ones lose their sockets`,
    { timeout: 120_000 },
    async () => {
      const idle = streams().size;
      const writer = ledgerWriter(baseOf(app), key, campaignId);
      // some history, so the `after` half replays before going live
      await writer.write(20);
      // socket by socket, so a loaded machine is not asked for every set-up at once
      const sockets: Raw[] = [];
      for (let s = 0; s < SOCKETS; s++) {
        const socket = await acked();
        sockets.push(socket);
        for (let i = 0; i < PER_SOCKET; i++) {
          const variables = i % 2 === 0 ? {} : { after: consentCursor(i) };
          socket.send({
            id: `${s}-${i}`,
            type: "subscribe",
            payload: { query: BARE, variables },
          });
        }
        await until(
          () => streams().size === idle + sockets.length * PER_SOCKET,
          () => `socket ${s}'s subscriptions to open (have ${streams().size - idle})`,
          30_000,
        );
      }
      // they are live: one more event reaches every one of them
      await writer.write(1);
      await until(
        () =>
          sockets.every(
            (socket) =>
              socket.messages.filter(
                (m) => m.type === "next" && m.payload.data?.consentChanged.sequence === 21,
              ).length === PER_SOCKET,
          ),
        () => `every subscription to receive the new event (errors: ${errorsOf(sockets)})`,
        40_000,
      );
      expect(errorsOf(sockets)).toBe(0);
      sockets.forEach((socket) => socket.ws.terminate());
      await until(
        () => streams().size === idle,
        () => `subscriptions to drain (have ${streams().size - idle})`,
        30_000,
      );
    },
  );

  it(
    "holds no subscription after sockets die while their subscriptions are being set up",
    { timeout: 120_000 },
    async () => {
      const idle = streams().size;
      const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => acked()));
      for (const [s, socket] of sockets.entries()) {
        for (let i = 0; i < PER_SOCKET; i++) {
          const variables = i % 2 === 0 ? {} : { after: consentCursor(0) };
          socket.send({
            id: `${s}-${i}`,
            type: "subscribe",
            payload: { query: BARE, variables },
          });
        }
        // gone before most of them have even been authorised
        if (s % 2 === 0) socket.ws.terminate();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      sockets.forEach((socket) => socket.ws.terminate());
      await until(
        () => streams().size === idle,
        () => `subscriptions to drain (have ${streams().size - idle})`,
        60_000,
      );
      // and the server still serves
      const socket = await acked();
      socket.send({ id: "x", type: "subscribe", payload: { query: SUBSCRIPTION } });
      await until(() => streams().size === idle + 1, "a new subscription to open");
      socket.ws.terminate();
      await until(() => streams().size === idle, "it to end");
    },
  );

  it("holds no subscription after SSE requests are aborted", { timeout: 120_000 }, async () => {
    const idle = streams().size;
    const base = baseOf(app);
    const feeds = Array.from({ length: 50 }, (_, i) =>
      subscribe({
        transport: "sse",
        base,
        key,
        document: ConsentChangedLean,
        variables: i % 2 === 0 ? {} : { after: consentCursor(0) },
      }),
    );
    await until(() => streams().size === idle + 50, "50 SSE subscriptions to open", 60_000);
    await Promise.all(feeds.map((feed) => feed.close()));
    await until(
      () => streams().size === idle,
      `subscriptions to drain (have ${streams().size - idle})`,
      15_000,
    );
  });
});
