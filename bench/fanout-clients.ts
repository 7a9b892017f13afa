// A fan-out load process: holds WebSocket clients of optgraph (graphql-transport-ws over raw `ws`,
// subscribed to consentChanged) and of the raw `ws` baseline, and records for every event how many
// of its clients received it and when the last one did. The harness spreads the clients over
// several such processes and drives them over IPC.
import WebSocket from "ws";
import { serve } from "./lib/ipc.ts";
import { nowMs } from "./lib/stats.ts";

type Target = "optgraph" | "baseline";

interface Receipts {
  byEvent: Map<number, { count: number; last: number }>;
  total: number;
  errors: number;
  closed: number;
  firstError: string | null;
}

const fresh = (): Receipts => ({
  byEvent: new Map(),
  total: 0,
  errors: 0,
  closed: 0,
  firstError: null,
});
const receipts: Record<Target, Receipts> = { optgraph: fresh(), baseline: fresh() };
const sockets: WebSocket[] = [];

function received(target: Target, event: number) {
  const at = nowMs();
  const r = receipts[target];
  r.total++;
  const entry = r.byEvent.get(event);
  if (entry) {
    entry.count++;
    entry.last = at;
  } else r.byEvent.set(event, { count: 1, last: at });
}

function failed(target: Target, error: unknown) {
  const r = receipts[target];
  r.errors++;
  r.firstError ??=
    error instanceof Error
      ? error.message
      : typeof error === "object" && error && "code" in error
        ? `close ${(error as { code: number }).code} ${(error as { reason?: string }).reason ?? ""}`
        : JSON.stringify(error);
}

async function inBatches(count: number, open: (i: number) => Promise<void>) {
  const BATCH = 50;
  for (let start = 0; start < count; start += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, count - start) }, (_, j) => open(start + j)),
    );
  }
}

interface ConnectOptgraph {
  url: string;
  key: string;
  count: number;
  query: string;
}

/**
 * One optgraph client: a raw `ws` socket speaking graphql-transport-ws (connection_init, one
 * subscribe, then `next` messages), parsed like the baseline's clients parse theirs, so both
 * sides' load processes spend the same per message.
 */
interface Subscriber {
  socket: WebSocket;
  /** false once the server closed it (e.g. as a slow consumer) or its subscription ended */
  alive: boolean;
}

const subscribers: Subscriber[] = [];
let optgraphTarget: ConnectOptgraph | null = null;

function subscribeOne({ url, key, query }: ConnectOptgraph): Promise<Subscriber> {
  return new Promise<Subscriber>((resolve, reject) => {
    const socket = new WebSocket(url, "graphql-transport-ws");
    const subscriber: Subscriber = { socket, alive: true };
    let acknowledged = false;
    socket.once("open", () =>
      socket.send(
        JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${key}` } }),
      ),
    );
    socket.once("error", (error) => {
      subscriber.alive = false;
      if (!acknowledged) reject(error);
    });
    socket.on("close", (code, reason) => {
      if (!subscriber.alive) return;
      subscriber.alive = false;
      if (!acknowledged) reject(new Error(`closed before connecting: ${code} ${reason}`));
      else failed("optgraph", { code, reason: String(reason) });
    });
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as {
        type: string;
        payload?: { data?: { consentChanged: { sequence: number } }; errors?: unknown };
      };
      if (message.type === "next") {
        if (message.payload?.data)
          received("optgraph", message.payload.data.consentChanged.sequence);
        else failed("optgraph", new Error(JSON.stringify(message.payload?.errors)));
      } else if (message.type === "connection_ack") {
        acknowledged = true;
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
        resolve(subscriber);
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "error") {
        subscriber.alive = false;
        failed("optgraph", new Error(JSON.stringify(message.payload)));
      } else if (message.type === "complete") {
        subscriber.alive = false;
      }
    });
  });
}

async function connectOptgraph(target: ConnectOptgraph) {
  optgraphTarget = target;
  await inBatches(target.count, async () => {
    subscribers.push(await subscribeOne(target));
  });
}

/**
 * Replaces the clients the server closed (or, with `all`, every client: a server still working
 * off a backlog for them stops when they go); returns how many.
 */
async function reviveOptgraph(all: boolean): Promise<number> {
  const replaced = subscribers.filter((s) => all || !s.alive);
  for (const s of replaced) {
    s.alive = false;
    s.socket.terminate();
  }
  await inBatches(replaced.length, async (i) => {
    subscribers[subscribers.indexOf(replaced[i])] = await subscribeOne(optgraphTarget!);
  });
  return replaced.length;
}

function connectBaseline({ url, count }: { url: string; count: number }) {
  return inBatches(
    count,
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(url);
        sockets.push(socket);
        socket.once("open", () => resolve());
        socket.once("error", reject);
        socket.on("close", () => receipts.baseline.closed++);
        socket.on("message", (data) => {
          const message = JSON.parse(String(data)) as {
            payload: { data: { consentChanged: { sequence: number } } };
          };
          received("baseline", message.payload.data.consentChanged.sequence);
        });
      }),
  );
}

/** Receipts so far (of events `from` on, when given), and errors. */
const counts = (target: Target, from?: number) => {
  const { byEvent, total, errors, closed, firstError } = receipts[target];
  let counted = total;
  if (from !== undefined) {
    counted = 0;
    for (const [event, { count }] of byEvent) if (event >= from) counted += count;
  }
  return { total: counted, errors, closed, firstError };
};

serve({
  connectOptgraph: (payload: ConnectOptgraph) => connectOptgraph(payload),
  reviveOptgraph: ({ all }: { all: boolean }) => reviveOptgraph(all),
  connectBaseline: (payload: { url: string; count: number }) => connectBaseline(payload),
  counts: ({ target, from }: { target: Target; from?: number }) => counts(target, from),
  /** how many of this process's clients received `event` so far */
  eventCount: ({ target, event }: { target: Target; event: number }) =>
    receipts[target].byEvent.get(event)?.count ?? 0,
  /** per event: [event, clients that received it, when the last one did]; then starts afresh */
  collect: ({ target }: { target: Target }) => {
    const entries = [...receipts[target].byEvent].map(([event, { count, last }]) => [
      event,
      count,
      last,
    ]);
    receipts[target] = { ...fresh(), closed: receipts[target].closed };
    return entries;
  },
  close: async () => {
    for (const s of subscribers) {
      s.alive = false;
      s.socket.terminate();
    }
    for (const socket of sockets) socket.terminate();
    setTimeout(() => process.exit(0), 50);
  },
});
