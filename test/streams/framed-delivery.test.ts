// Fan-out over graphql-ws writes one serialized result as pre-built `next` frames: every
// subscription sharing it gets its own id and byte-for-byte the same payload, in sequence order,
// exactly once; a completed subscription gets no more frames while the others go on; and the
// writes that make the events are answered (never refused) while many subscribers are being
// delivered to; events read together (one commit, a backlog) reach a subscriber in one write.
// Raw `ws` clients, so the frames are checked as they travel.
import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { nextFrame } from "../../src/http/frames.ts";
import { engine, PLATFORM_KEY, testEnv } from "../support/app.ts";
import {
  ActivateCampaign,
  CreateCampaign,
  CreateSender,
  OptIn,
  OptOut,
} from "../support/documents.ts";
import { disclosures, uniqueLongCode } from "../support/fixtures.ts";
import {
  baseOf,
  ledgerWriter,
  must,
  phoneAt,
  setupOrganization,
  strictlyIncreasing,
  until,
  type Written,
} from "./support.ts";

const QUERY = "subscription Framed { consentChanged { id cursor sequence toStatus method } }";

interface Frame {
  id: string;
  type: string;
  payload?: { data?: { consentChanged: { id: string; sequence: number } }; errors?: unknown };
}

/** A graphql-ws connection by hand: every message kept, raw and parsed. */
async function rawConnection(app: App, key: string) {
  const socket = new WebSocket(`ws://127.0.0.1:${app.server.port}/graphql`, "graphql-transport-ws");
  const raw: string[] = [];
  const frames: Frame[] = [];
  /** messages sent as binary frames (graphql-ws clients in browsers expect text) */
  let binary = 0;
  socket.on("message", (data, isBinary) => {
    if (isBinary) binary++;
    raw.push(String(data));
    frames.push(JSON.parse(String(data)) as Frame);
  });
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  socket.send(
    JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${key}` } }),
  );
  await until(() => frames.some((f) => f.type === "connection_ack"), "connection_ack");
  return {
    raw,
    frames,
    binaryMessages: () => binary,
    subscribe: (id: string) =>
      socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: QUERY } })),
    complete: (id: string) => socket.send(JSON.stringify({ id, type: "complete" })),
    /** the `next` frames of subscription `id`, raw */
    nextOf: (id: string) => raw.filter((_, i) => frames[i].type === "next" && frames[i].id === id),
    /** the port of this client's end of the connection (the server's socket has it as remote) */
    localPort: () => (socket as unknown as { _socket: Socket })._socket.localPort!,
    close: () => socket.terminate(),
  };
}

type Connection = Awaited<ReturnType<typeof rawConnection>>;

const sequencesOf = (frames: string[]) =>
  frames.map((text) => (JSON.parse(text) as Frame).payload!.data!.consentChanged.sequence);

describe(`framed fan-out over graphql-ws (${engine})`, () => {
  let app: App;
  let base: string;
  beforeAll(async () => {
    app = await startApp(loadConfig(testEnv({ OPTGRAPH_MAX_CONNECTIONS_PER_KEY: "500" })), {
      logError: () => undefined,
    });
    base = baseOf(app);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("builds the frame graphql-ws would send", () => {
    const payload = { data: { consentChanged: { id: "x", sequence: 3 } } };
    for (const id of ["1", 'a "quoted" id', "é\\n", "0b9c-…"]) {
      const text = nextFrame(id, JSON.stringify(payload));
      expect(JSON.parse(text)).toEqual({ id, type: "next", payload });
    }
  });

  it("gives every sharing subscription its own id and the same payload, exactly once", async () => {
    const org = await setupOrganization(base, PLATFORM_KEY);
    const streams = app.runtime.streams.consentEvents;
    const idle = streams.size;
    // one connection with three subscriptions of the same document, and two more connections
    // whose subscriptions carry the same id as one of them
    const ids = ["1", 'b "2"', "c-3"];
    const first = await rawConnection(app, org.key);
    const others = [await rawConnection(app, org.key), await rawConnection(app, org.key)];
    const all: Connection[] = [first, ...others];
    try {
      for (const id of ids) first.subscribe(id);
      for (const other of others) other.subscribe("1");
      await until(() => streams.size === idle + 5, "the five subscriptions to open");

      const writer = ledgerWriter(base, org.key, org.campaignId, 4);
      const written: Written[] = await writer.write(4);
      const expected = written.map((w) => w.sequence);
      const received = () =>
        all.flatMap((c, k) => (k === 0 ? ids : ["1"]).map((id) => c.nextOf(id)));
      await until(
        () => received().every((frames) => frames.length >= expected.length),
        () => `every subscription to get ${expected.length} events`,
      );

      for (const [k, connection] of all.entries()) {
        for (const id of k === 0 ? ids : ["1"]) {
          const frames = connection.nextOf(id);
          // exactly once, in order: the events written, nothing else
          expect(sequencesOf(frames)).toEqual(expected);
          expect(strictlyIncreasing(sequencesOf(frames))).toBe(true);
          // the payload is the shared one: the frame is it under this subscription's id
          frames.forEach((text, i) => {
            const reference = JSON.parse(first.nextOf("1")[i]) as Frame;
            expect(text).toBe(nextFrame(id, JSON.stringify(reference.payload)));
          });
        }
      }
      expect(all.flatMap((c) => c.frames).filter((f) => f.type === "error")).toEqual([]);
      // text frames, as graphql-ws sends them (a browser would hand a Blob to its parser)
      expect(all.map((c) => c.binaryMessages())).toEqual([0, 0, 0]);

      // a completed subscription gets no more frames; the others go on
      first.complete(ids[1]);
      await until(() => streams.size === idle + 4, "the completed subscription to end");
      const more = await writer.write(2);
      await until(
        () => first.nextOf(ids[0]).length >= expected.length + 2,
        "the next two events on the first subscription",
      );
      await until(
        () => others.every((c) => c.nextOf("1").length >= expected.length + 2),
        "the next two events on the other connections",
      );
      expect(sequencesOf(first.nextOf(ids[0])).slice(-2)).toEqual(more.map((w) => w.sequence));
      expect(first.nextOf(ids[1])).toHaveLength(expected.length);
    } finally {
      for (const connection of all) connection.close();
    }
    await until(() => streams.size === idle, "every subscription to end");
  });

  it("writes the events of one commit to a subscriber in one write, in order", async () => {
    const org = await setupOrganization(base, PLATFORM_KEY);
    const streams = app.runtime.streams.consentEvents;
    const idle = streams.size;
    // three campaigns, one number opted in to each: an opt-out from the organization is then one
    // commit of three events, read by the tailer together
    const sender = await must(base, org.key, CreateSender, {
      input: { address: uniqueLongCode(), kind: "LONG_CODE" },
    });
    const campaignIds = [org.campaignId];
    for (const name of ["Second", "Third"]) {
      const created = await must(base, org.key, CreateCampaign, {
        input: {
          name: `${name} ${Date.now()}`,
          purpose: "MARKETING",
          senderId: sender.createSender.sender.id,
          disclosures: disclosures(),
        },
      });
      campaignIds.push(created.createCampaign.campaign.id);
      await must(base, org.key, ActivateCampaign, { id: created.createCampaign.campaign.id });
    }
    const phone = phoneAt(7);
    const connection = await rawConnection(app, org.key);
    const writes = new Map<number, number>();
    try {
      connection.subscribe("s");
      await until(() => streams.size === idle + 1, "the subscription to open");
      for (const campaignId of campaignIds) {
        await must(base, org.key, OptIn, { input: { phone, campaignId, method: "API" } });
      }
      await until(() => connection.nextOf("s").length === 3, "the three opt-ins");

      // from here, count the writes the server makes to this client's connection
      const port = connection.localPort();
      const count = (socket: Socket) => {
        if (socket.remotePort === port) writes.set(port, (writes.get(port) ?? 0) + 1);
      };
      const writev = Socket.prototype._writev!;
      const write = Socket.prototype._write;
      vi.spyOn(Socket.prototype, "_writev").mockImplementation(function (this: Socket, ...args) {
        count(this);
        return writev.apply(this, args);
      });
      vi.spyOn(Socket.prototype, "_write").mockImplementation(function (this: Socket, ...args) {
        count(this);
        return write.apply(this, args);
      });
      const optedOut = await must(base, org.key, OptOut, {
        input: { phone, scope: "ORGANIZATION", method: "API" },
      });
      expect(optedOut.optOut.events).toHaveLength(3);
      await until(() => connection.nextOf("s").length === 6, "the three opt-outs");

      const sequences = sequencesOf(connection.nextOf("s"));
      expect(sequences.slice(3)).toEqual(
        optedOut.optOut.events.map((e) => e.sequence).sort((a, b) => a - b),
      );
      expect(strictlyIncreasing(sequences)).toBe(true);
      // one write for the three frames, not one each
      expect(writes.get(port)).toBe(1);
    } finally {
      vi.restoreAllMocks();
      connection.close();
    }
    await until(() => streams.size === idle, "the subscription to end");
  });

  it(
    "answers every write while it delivers to many subscribers",
    { timeout: 120_000 },
    async () => {
      const org = await setupOrganization(base, PLATFORM_KEY);
      const streams = app.runtime.streams.consentEvents;
      const idle = streams.size;
      const SUBSCRIBERS = 200;
      const EVENTS = 60;
      const connections: Connection[] = [];
      try {
        for (let i = 0; i < SUBSCRIBERS; i += 50) {
          const batch = Array.from({ length: Math.min(50, SUBSCRIBERS - i) }, () =>
            rawConnection(app, org.key),
          );
          connections.push(...(await Promise.all(batch)));
        }
        for (const connection of connections) connection.subscribe("s");
        await until(() => streams.size === idle + SUBSCRIBERS, "every subscription to open");

        // 20 writes at a time: each is answered with its event (must() throws on any error,
        // a refused write included), while the earlier ones are still being delivered
        const writer = ledgerWriter(base, org.key, org.campaignId, 20);
        const written = await writer.write(EVENTS);
        expect(written).toHaveLength(EVENTS);

        const expected = written.map((w) => w.sequence);
        await until(
          () => connections.every((c) => c.nextOf("s").length >= EVENTS),
          () =>
            `every subscriber to get ${EVENTS} events (fewest: ${Math.min(...connections.map((c) => c.nextOf("s").length))})`,
          60_000,
        );
        for (const connection of connections) {
          expect(sequencesOf(connection.nextOf("s"))).toEqual(expected);
        }
      } finally {
        for (const connection of connections) connection.close();
      }
      await until(() => streams.size === idle, "every subscription to end");
    },
  );
});
