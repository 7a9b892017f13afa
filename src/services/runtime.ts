// The long-lived things a service call needs: the database client, the configuration, and the
// event streams with their wake-ups. Built once per process by `createRuntime` (the server and
// the import command alike) and handed to every service as its first argument.
import type { Config } from "../config.ts";
import type { Database, Prisma, PreparedRead, SqlTransaction } from "../db/client.ts";
import {
  consentEventSource,
  keywordEventSource,
  type ConsentEventFilter,
  type ConsentEventRow,
  type KeywordEventFilter,
  type KeywordEventRow,
} from "../events/sources.ts";
import { LogStreams } from "../events/streams.ts";
import { localWakeups, postgresWakeups, redisWakeups, type Wakeups } from "../events/wakeups.ts";
import { SendCache } from "./send-cache.ts";

export interface Runtime {
  readonly prisma: Prisma;
  /** hot-path reads as prepared statements (see Database.prepared) */
  readonly prepared: PreparedRead;
  /** plain SQL transactions for bulk writes (see Database.transaction) */
  readonly transaction: SqlTransaction;
  readonly config: Config;
  readonly wakeups: Wakeups;
  readonly streams: {
    readonly consentEvents: LogStreams<ConsentEventRow, ConsentEventFilter>;
    readonly keywordEvents: LogStreams<KeywordEventRow, KeywordEventFilter>;
  };
  /** what canSend needs, in memory, kept current by the wake-ups */
  readonly sendCache: SendCache;
  /** closes the streams and the wake-ups (the database is its opener's to close) */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  onError: (error: unknown) => void;
  /** stream settings; the configuration's by default */
  streams?: { bufferSize: number; pollIntervalMs: number };
}

/**
 * The runtime over an open database. Commits wake every instance through Redis when REDIS_URL is
 * set, PostgreSQL NOTIFY on PostgreSQL, and in-process on the embedded database.
 */
export function createRuntime(config: Config, db: Database, options: RuntimeOptions): Runtime {
  const wakeups = config.redisUrl
    ? redisWakeups(config.redisUrl, options.onError)
    : db.kind === "postgres" && config.database.kind === "postgres"
      ? postgresWakeups(config.database.url, db.pool!, options.onError)
      : localWakeups();
  const streamOptions = {
    bufferSize: options.streams?.bufferSize ?? config.streamBufferSize,
    pollIntervalMs: options.streams?.pollIntervalMs ?? config.streamPollMs,
    onError: options.onError,
  };
  const consentEvents = new LogStreams(consentEventSource(db.prisma), wakeups, streamOptions);
  const keywordEvents = new LogStreams(keywordEventSource(db.prisma), wakeups, streamOptions);
  const sendCache = new SendCache(db.prepared, wakeups, config.sendCache, options.onError);
  return {
    prisma: db.prisma,
    prepared: db.prepared,
    transaction: db.transaction,
    config,
    wakeups,
    streams: { consentEvents, keywordEvents },
    sendCache,
    close: async () => {
      sendCache.close();
      consentEvents.close();
      keywordEvents.close();
      await wakeups.close();
    },
  };
}
