// Wake-ups: after a transaction that appended to an organization's ledger or message log commits,
// every instance is told to read that organization's new rows. In-process always; across
// instances through Redis pub/sub when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY. A missed
// wake-up only delays delivery: tailers also poll (src/events/streams.ts).
import { EventEmitter } from "node:events";
import { Redis } from "ioredis";
import pg from "pg";

export const WAKEUP_CHANNEL = "optgraph_ledger";

export interface Wakeups {
  /** tells every instance (this one included) that the organization's logs grew */
  publish(organizationId: string): void;
  subscribe(listener: (organizationId: string) => void): () => void;
  close(): Promise<void>;
}

type Remote = { publish(organizationId: string): void; close(): Promise<void> };

function compose(
  local: EventEmitter,
  remote: Remote | null,
  onError: (error: unknown) => void,
): Wakeups {
  return {
    publish(organizationId) {
      local.emit("wake", organizationId);
      try {
        remote?.publish(organizationId);
      } catch (error) {
        onError(error);
      }
    },
    subscribe(listener) {
      local.on("wake", listener);
      return () => local.off("wake", listener);
    },
    close: async () => {
      local.removeAllListeners();
      await remote?.close();
    },
  };
}

/** Wake-ups within this process only (the embedded database has one instance). */
export function localWakeups(): Wakeups {
  return compose(new EventEmitter().setMaxListeners(0), null, () => undefined);
}

/** PostgreSQL LISTEN/NOTIFY on a dedicated connection that reconnects by itself. */
export function postgresWakeups(
  connectionString: string,
  pool: pg.Pool,
  onError: (error: unknown) => void,
): Wakeups {
  const local = new EventEmitter().setMaxListeners(0);
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const listen = async () => {
    if (closed) return;
    const next = new pg.Client({
      connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 5000,
    });
    next.on("notification", (message) => {
      if (message.channel === WAKEUP_CHANNEL && message.payload)
        local.emit("wake", message.payload);
    });
    next.on("error", () => {
      // the connection broke: listen again on a new one
      next.end().catch(() => undefined);
      if (client === next) client = null;
      scheduleListen();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${WAKEUP_CHANNEL}`);
      if (closed) await next.end();
      else client = next;
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
  void listen();
  return compose(
    local,
    {
      publish: (organizationId) => {
        pool.query("select pg_notify($1, $2)", [WAKEUP_CHANNEL, organizationId]).catch(onError);
      },
      close: async () => {
        closed = true;
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
  subscriber.subscribe(WAKEUP_CHANNEL).catch(onError);
  subscriber.on("message", (channel: string, organizationId: string) => {
    if (channel === WAKEUP_CHANNEL) local.emit("wake", organizationId);
  });
  return compose(
    local,
    {
      publish: (organizationId) => {
        publisher.publish(WAKEUP_CHANNEL, organizationId).catch(onError);
      },
      close: async () => {
        subscriber.disconnect();
        publisher.disconnect();
      },
    },
    onError,
  );
}
