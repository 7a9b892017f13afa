// The long-lived things a service call needs: the database client, the configuration, and the
// event streams with their wake-ups. Built once per process and handed to every request.
import type { Config } from "../config.ts";
import type { Prisma, PreparedRead, SqlTransaction } from "../db/client.ts";
import type {
  ConsentEventFilter,
  ConsentEventRow,
  KeywordEventFilter,
  KeywordEventRow,
} from "../events/sources.ts";
import type { LogStreams } from "../events/streams.ts";
import type { Wakeups } from "../events/wakeups.ts";

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
}
