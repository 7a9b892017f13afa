// Wake-ups: after a transaction that appended to an organization's ledger or message log commits,
// every instance is told to read that organization's new rows. In-process always; across
// instances through Redis pub/sub when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY. A missed
// wake-up only delays delivery: tailers also poll (src/events/streams.ts). A ledger commit's
// wake-up also says where it left the logs ("<id> <ledger> <keywords>"), so an instance that hears
// its own commit back, its tailers already past it, reads nothing for it; a bare id (from an
// older instance, or a write that does not know) is read as before. In-process listeners also get
// the committed rows themselves when the writer has them (CommittedRows); nothing but the payload
// above crosses to other instances.
import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import pg from "pg";
import type { ConsentEvent } from "../generated/prisma/client.ts";

export const WAKEUP_CHANNEL = "optgraph_ledger";

/**
 * Where a commit left the organization's logs, when it knows: a reader already past them has
 * nothing to read for that wake-up (the one an instance hears back for its own commit, say).
 */
export interface LogHeads {
  /** the consent ledger's last sequence the commit wrote */
  ledger?: number;
  /** the inbound-message log's last sequence the commit wrote */
  keywords?: number;
}

const UNKNOWN: LogHeads = Object.freeze({});

/**
 * The rows a commit of this instance appended, as the tables give them back: this instance's
 * readers may take them without reading them again (other instances read them, as always).
 */
export interface CommittedRows {
  /** the consent ledger's new events, in sequence order, contiguous */
  ledger?: readonly ConsentEvent[];
}

/** A wake-up's payload: the organization's id, then the heads it knows ("<id> <ledger> <keywords>"). */
export function wakeupPayload(organizationId: string, heads: LogHeads = UNKNOWN): string {
  if (heads.ledger === undefined && heads.keywords === undefined) return organizationId;
  return `${organizationId} ${heads.ledger ?? ""} ${heads.keywords ?? ""}`;
}

/** The organization and heads of a wake-up's payload; a bare id (an older instance's) knows none. */
export function readWakeup(payload: string): { organizationId: string; heads: LogHeads } {
  const [organizationId, ledger, keywords] = payload.split(" ");
  const head = (text: string | undefined) => {
    const value = text ? Number(text) : NaN;
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  };
  const heads = { ledger: head(ledger), keywords: head(keywords) };
  return { organizationId, heads };
}

export interface Wakeups {
  /**
   * tells every instance (this one included) that the organization's logs grew (to `heads`); this
   * instance's listeners also get the rows it committed, when given
   */
  publish(organizationId: string, heads?: LogHeads, committed?: CommittedRows): void;
  subscribe(
    listener: (organizationId: string, heads: LogHeads, committed?: CommittedRows) => void,
  ): () => void;
  /**
   * Since when (performance.now()) this instance has heard other instances' wake-ups without a
   * break; null while it cannot (its LISTEN or SUBSCRIBE connection is down). A reader that must
   * not miss a change trusts only what it confirmed after that instant.
   */
  listeningSince(): number | null;
  close(): Promise<void>;
}

type Remote = {
  publish(payload: string): void;
  listeningSince(): number | null;
  close(): Promise<void>;
};

function compose(
  local: EventEmitter,
  remote: Remote | null,
  onError: (error: unknown) => void,
): Wakeups {
  return {
    publish(organizationId, heads = UNKNOWN, committed) {
      local.emit("wake", organizationId, heads, committed);
      try {
        remote?.publish(wakeupPayload(organizationId, heads));
      } catch (error) {
        onError(error);
      }
    },
    subscribe(listener) {
      local.on("wake", listener);
      return () => local.off("wake", listener);
    },
    listeningSince: () => (remote ? remote.listeningSince() : 0),
    close: async () => {
      local.removeAllListeners();
      await remote?.close();
    },
  };
}

/** Tells this instance's listeners of another instance's (or its own, heard back) wake-up. */
function emit(local: EventEmitter, payload: string) {
  const { organizationId, heads } = readWakeup(payload);
  local.emit("wake", organizationId, heads);
}

/** Wake-ups within this process only (the embedded database has one instance). */
export function localWakeups(): Wakeups {
  return compose(new EventEmitter().setMaxListeners(0), null, () => undefined);
}

/** `query`, or an error when the LISTEN connection does not answer it within `timeoutMs`. */
async function answered<T>(query: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      query,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the LISTEN connection did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How often the LISTEN connection is asked whether it still answers. */
export const LISTEN_HEARTBEAT_MS = 5000;

/**
 * PostgreSQL LISTEN/NOTIFY on a dedicated connection that reconnects by itself: when it reports an
 * error, and when it stops answering. A connection behind a dead network path (no FIN, no RST,
 * keep-alive probes answered by a middlebox) reports nothing and hears no NOTIFY again, so it is
 * asked a trivial query every few seconds and replaced when no answer comes in time.
 */
export function postgresWakeups(
  connectionString: string,
  pool: pg.Pool,
  onError: (error: unknown) => void,
): Wakeups {
  const local = new EventEmitter().setMaxListeners(0);
  let client: pg.Client | null = null;
  let since: number | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const timeoutMs = pool.options.connectionTimeoutMillis || 5000;
  const listen = async () => {
    if (closed) return;
    const next = new pg.Client({
      connectionString,
      keepAlive: true,
      connectionTimeoutMillis: timeoutMs,
      // named like the pool's connections, so operators find (and tests kill) it with them
      application_name: pool.options.application_name,
    });
    next.on("notification", (message) => {
      if (message.channel === WAKEUP_CHANNEL && message.payload) emit(local, message.payload);
    });
    next.on("error", () => {
      // the connection broke: listen again on a new one
      next.end().catch(() => undefined);
      if (client === next) {
        client = null;
        since = null;
      }
      scheduleListen();
    });
    try {
      await next.connect();
      await answered(next.query(`LISTEN ${WAKEUP_CHANNEL}`), timeoutMs);
      if (closed) await next.end();
      else {
        client = next;
        since = performance.now();
      }
    } catch (error) {
      onError(error);
      next.end().catch(() => undefined);
      scheduleListen();
    }
  };
  const scheduleListen = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void listen();
    }, 1000);
    retry.unref();
  };
  let checking = false;
  const heartbeat = setInterval(() => {
    const current = client;
    if (!current || checking) return;
    checking = true;
    answered(current.query("select 1"), timeoutMs)
      .catch((error) => {
        if (client !== current) return;
        onError(error);
        client = null;
        since = null;
        // with a query in flight, end() destroys the socket instead of waiting for a goodbye
        current.end().catch(() => undefined);
        scheduleListen();
      })
      .finally(() => {
        checking = false;
      });
  }, LISTEN_HEARTBEAT_MS);
  heartbeat.unref();
  void listen();
  return compose(
    local,
    {
      publish: (payload) => {
        pool.query("select pg_notify($1, $2)", [WAKEUP_CHANNEL, payload]).catch(onError);
      },
      listeningSince: () => since,
      close: async () => {
        closed = true;
        clearInterval(heartbeat);
        clearTimeout(retry);
        await client?.end().catch(() => undefined);
      },
    },
    onError,
  );
}

/** Redis pub/sub: one connection publishes, one subscribes (ioredis reconnects both). */
export function redisWakeups(url: string, onError: (error: unknown) => void): Wakeups {
  const local = new EventEmitter().setMaxListeners(0);
  const options = { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
  publisher.on("error", onError);
  subscriber.on("error", onError);
  let since: number | null = null;
  // ioredis subscribes again by itself after a reconnect, before it reports "ready"
  subscriber.subscribe(WAKEUP_CHANNEL).then(() => (since ??= performance.now()), onError);
  subscriber.on("ready", () => (since ??= performance.now()));
  subscriber.on("close", () => (since = null));
  subscriber.on("message", (channel: string, payload: string) => {
    if (channel === WAKEUP_CHANNEL) emit(local, payload);
  });
  return compose(
    local,
    {
      publish: (payload) => {
        publisher.publish(WAKEUP_CHANNEL, payload).catch(onError);
      },
      listeningSince: () => since,
      close: async () => {
        subscriber.disconnect();
        publisher.disconnect();
      },
    },
    onError,
  );
}
