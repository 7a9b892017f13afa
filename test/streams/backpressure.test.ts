// A slow consumer must not stall others or grow memory without bound. A raw graphql-ws client
// subscribes and then stops reading its socket; once the kernel's buffers are full graphql-ws
// stops pulling that subscription, its bounded buffer (OPTGRAPH_STREAM_BUFFER, 100 here) fills,
// and the server closes the socket with 1008 and a reason naming `after`. A normal client on the
// same organization meanwhile receives every event in order — and so does a fast client of the
// very same subscription, whose result the slow one shares (one serialized frame payload for
// both) — and the server's subscription count drops back. STREAM_SLOW_EVENTS sets the event count (default small; the full-size run is
// 10,000).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { SLOW_CONSUMER_CLOSE } from "../../src/http/yoga.ts";
import { engine, PLATFORM_KEY, testEnv } from "../support/app.ts";
import {
  baseOf,
  ConsentChangedBare,
  ledgerWriter,
  setupOrganization,
  strictlyIncreasing,
  subscribe,
  until,
} from "./support.ts";

const EVENTS = Number(process.env.STREAM_SLOW_EVENTS ?? 300);
const BUFFER = 100;
// each event carries ~15 KB of evidence and the slow query reads it 15 times (aliases): ~225 KB
// a message, so the sockets' kernel buffers (a few MB) fill after a few dozen events
const EVIDENCE = { note: "x".repeat(15_000) };
const FAT_SUBSCRIPTION = `subscription Fat { consentChanged { id sequence cursor ${Array.from(
  { length: 15 },
  (_, i) => `e${i}: evidence`,
).join(" ")} } }`;

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

describe(`a slow consumer (${engine}, buffer ${BUFFER}, ${EVENTS} events)`, () => {
  let app: App;
  let base: string;
  beforeAll(async () => {
    app = await startApp(loadConfig(testEnv({ OPTGRAPH_STREAM_BUFFER: String(BUFFER) })), {
      logError: () => undefined,
    });
    base = baseOf(app);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it(
    "is closed with 1008 while a normal client gets every event",
    { timeout: Math.max(120_000, EVENTS * 40) },
    async () => {
      const org = await setupOrganization(base, PLATFORM_KEY);
      const streams = app.runtime.streams.consentEvents;
      const idle = streams.size;

      // the slow client: graphql-ws by hand, then it stops reading
      const slow = new WebSocket(
        `ws://127.0.0.1:${app.server.port}/graphql`,
        "graphql-transport-ws",
      );
      const slowMessages: { type: string; payload?: unknown }[] = [];
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        slow.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      slow.on("message", (data) => slowMessages.push(JSON.parse(String(data))));
      await new Promise((resolve, reject) => {
        slow.once("open", resolve);
        slow.once("error", reject);
      });
      slow.send(
        JSON.stringify({
          type: "connection_init",
          payload: { authorization: `Bearer ${org.key}` },
        }),
      );
      await until(() => slowMessages.some((m) => m.type === "connection_ack"), "connection_ack");
      slow.send(
        JSON.stringify({ id: "fat", type: "subscribe", payload: { query: FAT_SUBSCRIPTION } }),
      );
      await until(() => streams.size === idle + 1, "the slow subscription to open");
      const slowSocket = (slow as unknown as { _socket: { pause(): void; resume(): void } })
        ._socket;
      slowSocket.pause();
      const pausedAt = performance.now();
      let pausedMs = 0;

      // a fast client of the same subscription: it shares the slow one's results and frames
      const fast = new WebSocket(
        `ws://127.0.0.1:${app.server.port}/graphql`,
        "graphql-transport-ws",
      );
      const fastSequences: number[] = [];
      let fastAcked = false;
      const fastOther: string[] = [];
      // (it reads each ~225 KB message's head only: the type and the sequence come first)
      fast.on("message", (data: Buffer) => {
        const head = data.subarray(0, 400).toString("utf8");
        const type = /"type":"(\w+)"/.exec(head)?.[1] ?? "?";
        const sequence = /"consentChanged":\{"id":"[^"]*","sequence":(\d+)/.exec(head)?.[1];
        if (type === "connection_ack") fastAcked = true;
        else if (type === "next" && sequence) fastSequences.push(Number(sequence));
        else fastOther.push(type);
      });
      const fastClosed = new Promise<{ code: number }>((resolve) =>
        fast.once("close", (code) => resolve({ code })),
      );
      await new Promise((resolve, reject) => {
        fast.once("open", resolve);
        fast.once("error", reject);
      });
      fast.send(
        JSON.stringify({
          type: "connection_init",
          payload: { authorization: `Bearer ${org.key}` },
        }),
      );
      await until(() => fastAcked, "the fast client's connection_ack");
      fast.send(
        JSON.stringify({ id: "fat", type: "subscribe", payload: { query: FAT_SUBSCRIPTION } }),
      );
      await until(() => streams.size === idle + 2, "the fast subscription to open");

      // the normal client (without `cursor`: see ConsentChangedBare)
      const normalCloses: { code: number; reason: string }[] = [];
      const normal = subscribe({
        transport: "ws",
        base,
        key: org.key,
        document: ConsentChangedBare,
        variables: {},
        onClosed: (event) => normalCloses.push(event),
      });
      await until(() => streams.size === idle + 3, "the normal subscription to open");

      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }, 100);
      const started = performance.now();
      const written: { id: string; sequence: number }[] = [];
      let overflowAt: number | null = null;
      // as soon as the server gave up on it, the slow client reads again (a socket paused for
      // longer than graphql-ws's keep-alive, 12 s + 12 s, is terminated for missing pongs)
      const watch = setInterval(() => {
        if (overflowAt === null && streams.size <= idle + 2) {
          overflowAt = written.length;
          pausedMs = performance.now() - pausedAt;
          slowSocket.resume();
        }
      }, 5);
      try {
        const writer = ledgerWriter(base, org.key, org.campaignId, 20, EVIDENCE);
        while (written.length < EVENTS) {
          written.push(...(await writer.write(Math.min(20, EVENTS - written.length))));
        }
        const writeMs = performance.now() - started;
        const items = await normal.waitFor(EVENTS, 90_000).catch((error: Error) => {
          throw new Error(
            `${error.message}; normal client closes: ${JSON.stringify(normalCloses)}`,
          );
        });
        const deliveredMs = performance.now() - started;

        // the normal client: every event, in order, nothing else
        expect(items.map((e) => e.id)).toEqual(written.map((e) => e.id));
        expect(strictlyIncreasing(items.map((e) => e.sequence))).toBe(true);

        // the fast client of the slow one's subscription: every event, in order, never closed
        await until(
          () => fastSequences.length >= EVENTS,
          () => `the fast client to get ${EVENTS} events (has ${fastSequences.length})`,
          90_000,
        );
        expect(fastSequences).toEqual(written.map((e) => e.sequence));
        expect(fastOther).toEqual([]);

        // the slow one was dropped on the server while the normal and fast ones stayed
        await until(() => streams.size === idle + 2, "the slow subscription to be failed", 10_000);
        expect(overflowAt).not.toBeNull();
        // reading again, it finds the close frame behind what was already in flight
        const close = await closed;
        // (1006 instead means the socket was dropped for missing graphql-ws keep-alive pongs:
        // it stayed paused longer than 24 s because the writes were that slow)
        expect(close, `the slow client was paused for ${Math.round(pausedMs)} ms`).toEqual({
          code: SLOW_CONSUMER_CLOSE.code,
          reason: SLOW_CONSUMER_CLOSE.reason,
        });
        expect(close.code).toBe(1008);
        expect(close.reason).toMatch(/resubscribe with after/);
        const received = slowMessages.filter((m) => m.type === "next");
        // it got fewer than all, never more than what was in flight plus its buffer
        expect(received.length).toBeLessThan(EVENTS);
        const sequences = received.map(
          (m) =>
            (m.payload as { data: { consentChanged: { sequence: number } } }).data.consentChanged
              .sequence,
        );
        expect(strictlyIncreasing(sequences)).toBe(true);

        await normal.close();
        fast.terminate();
        expect((await fastClosed).code).not.toBe(SLOW_CONSUMER_CLOSE.code);
        await until(() => streams.size === idle, "every subscription to end");
        clearInterval(sampler);
        global.gc?.();
        const rssAfter = process.memoryUsage().rss;
        console.log(
          `[backpressure ${engine}] ${EVENTS} events written in ${Math.round(writeMs)} ms, all delivered to the normal client after ${Math.round(deliveredMs)} ms; ` +
            `slow subscription failed after ~${overflowAt} events (paused ${Math.round(pausedMs)} ms; it received ${received.length} before the close: what was in flight), ` +
            `closed ${close.code} "${close.reason}"; rss before ${mb(rssBefore)}, peak ${mb(rssPeak)}, after ${mb(rssAfter)}`,
        );
      } finally {
        clearInterval(sampler);
        clearInterval(watch);
        await normal.close();
        slow.terminate();
        fast.terminate();
      }
    },
  );
});
