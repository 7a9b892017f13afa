// The database the service runs on: embedded PGlite in a data directory by default, or PostgreSQL
// through a bounded node-postgres pool when DATABASE_URL is set. Both speak through a Prisma
// driver adapter, so the rest of the service never knows which one it has.
import { mkdirSync } from "node:fs";
import type { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import type { DatabaseConfig } from "../config.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

import {
  DEFAULT_MIGRATIONS_DIR,
  migrationsApplied,
  type CheckQuery,
} from "./migrations-applied.ts";

// Loaded only when needed: the embedded engine (~55 MB resident once loaded) and the schema engine
// are not the memory of a process that works on PostgreSQL with a migrated schema. A database with
// every migration applied (the usual start) never loads the schema engine.
async function applyMigrations(
  target: import("./migrate.ts").MigrationTarget,
  query: CheckQuery,
): Promise<void> {
  if (await migrationsApplied(DEFAULT_MIGRATIONS_DIR, query)) return;
  await (await import("./migrate.ts")).applyMigrations(target);
}

export type Prisma = PrismaClient;

export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly prisma: PrismaClient;
  /** the PostgreSQL pool (PostgreSQL only), for gauges and LISTEN connections */
  readonly pool: pg.Pool | undefined;
  /** the embedded database (PGlite only) */
  readonly pglite: PGlite | undefined;
  /**
   * A read on a hot path: on PostgreSQL straight on the pool (no Prisma query interpreter in
   * between); on PGlite through Prisma. `text` uses $1, $2… placeholders. With a `name`, a
   * prepared statement (parsed once per connection). Only for plain lookups: a named statement
   * switches to a generic plan after five runs, and for the lookup by an array of phones the
   * generic plan was six times slower than the custom one (docs/BENCHMARKS.md).
   */
  readonly prepared: PreparedRead;
  /**
   * Runs `work` in one transaction of plain SQL on a connection of its own: for bulk writes, whose
   * array parameters go to the driver as they are. Through Prisma each statement's parameters are
   * serialized to JSON and back, and Prisma's debug history keeps the last 100 requests: for an
   * import that was a third of its CPU and most of its memory (docs/BENCHMARKS.md).
   */
  readonly transaction: SqlTransaction;
  /** resolves when the database answers a trivial query */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type PreparedRead = <T>(text: string, values: unknown[], name?: string) => Promise<T[]>;

/** A statement in a plain SQL transaction: `text` uses $1, $2… placeholders; arrays are arrays. */
export type SqlQuery = <T = Record<string, unknown>>(
  text: string,
  values?: unknown[],
) => Promise<T[]>;
/**
 * With `timeoutMs`, a transaction still open after that long is ended by closing its connection
 * (PostgreSQL): the statement in flight fails, the server rolls back and releases its locks, as
 * Prisma's interactive transactions do at their timeout.
 */
export type SqlTransaction = <T>(
  work: (sql: SqlQuery) => Promise<T>,
  options?: { timeoutMs?: number },
) => Promise<T>;

/**
 * Prisma stores DateTime as `timestamp(3)` (no zone) holding UTC; node-postgres would read such a
 * value in the process's local zone. Prepared reads parse it as UTC, as Prisma does.
 */
const TIMESTAMP_OID = 1114;
const UTC_TIMESTAMPS = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === TIMESTAMP_OID
      ? (value: string) => new Date(`${value.replace(" ", "T")}Z`)
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

export class DatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseUnavailableError";
  }
}

const TRANSIENT_PRISMA_CODES = new Set([
  "P1001", // cannot reach the database server
  "P1002", // the server timed out
  "P1017", // the server closed the connection
  "P2024", // timed out fetching a connection from the pool
  "P2028", // transaction API error (it could not start in time, or it expired)
]);
const TRANSIENT_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED|ECONNRESET|terminating connection due to administrator command|the database system is (starting up|shutting down)|Transaction already closed|Unable to start a transaction in the given time/i;

/**
 * Whether an error means the database was unreachable or too busy: the request may succeed when
 * sent again (a mutation with the same idempotencyKey applies at most once).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof DatabaseUnavailableError) return true;
    if (typeof current !== "object") return false;
    const { code, message, cause } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof code === "string" && TRANSIENT_PRISMA_CODES.has(code)) return true;
    if (typeof message === "string" && TRANSIENT_MESSAGES.test(message)) return true;
    current = cause;
  }
  return false;
}

/** A connection string with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

export interface OpenOptions {
  /** apply committed migrations before returning (default true) */
  migrate?: boolean;
  /** use this PGlite instance instead of opening the configured data directory */
  pglite?: PGlite;
  /** called with the SQL of every query Prisma sends (tests assert round trips with it) */
  onQuery?: (sql: string) => void;
}

function createClient(adapter: SqlDriverAdapterFactory, onQuery?: (sql: string) => void) {
  if (!onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  prisma.$on("query", (event) => onQuery(event.query));
  return prisma;
}

/**
 * The statements of one plain SQL transaction. Each is sent when `work` issues it; on PostgreSQL
 * the pool pipelines (node-postgres `pipeline`), so a statement goes out at once behind those not
 * yet answered. The transaction's BEGIN thus travels with its first statement, and its COMMIT right
 * behind a last statement that `work` did not wait for (the ledger writer's write): one round trip
 * each instead of two. Every statement is answered before the transaction answers, and the first
 * that failed fails it, whether `work` waited for it or not (after a failure PostgreSQL turns the
 * COMMIT into a rollback).
 */
class Statements {
  private readonly sent: Promise<void>[] = [];
  private failure: { error: unknown } | null = null;

  /** The rows of `statement`, sent; its failure is the transaction's. */
  track<T>(statement: Promise<{ rows: unknown[] }>): Promise<T[]> {
    this.sent.push(
      statement.then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error }; // answers come in order: the first is the cause
        },
      ),
    );
    const rows = statement.then((result) => result.rows as T[]);
    rows.catch(() => undefined); // reported by `answered` when `work` did not wait for it
    return rows;
  }

  /**
   * The result of `work`; when it throws, once every statement is answered, the first failed
   * statement's error (the cause of what followed), else its own.
   */
  async of<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      await this.answered();
      throw error;
    }
  }

  /** Resolves once every statement sent is answered; rejects with the first that failed. */
  async answered(): Promise<void> {
    await Promise.all(this.sent);
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Closes a connection at once, failing what it has in flight. (`end()` would wait for pipelined
 * statements to be answered, and a statement that never is would hold it forever.)
 */
function closeNow(client: pg.Client | pg.PoolClient) {
  (
    client as unknown as { connection: { stream: { destroy(): void } } }
  ).connection.stream.destroy();
}

/**
 * Bounds every query of a pool connection by a deadline on the client's side. statement_timeout
 * runs in the server, so it cannot end a query the server never receives or whose answer never
 * arrives: behind a dead network path (no FIN, no RST, keep-alive probes answered by a middlebox)
 * such a query waited forever and held its pool slot, its transaction and its HTTP request with
 * it. When the deadline passes the connection is closed: the query fails, and the pool drops the
 * connection instead of handing it out again with the dead query still in front of the next one.
 */
export function boundQueries(client: pg.Client | pg.PoolClient, readTimeoutMs: number) {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const bounded = (...args: unknown[]) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeNow(client);
    }, readTimeoutMs);
    const explain = (error: unknown) =>
      timedOut
        ? new DatabaseUnavailableError(
            `database: no answer within ${readTimeoutMs} ms; the connection was closed`,
          )
        : error;
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function") {
      args[last] = (error: unknown, result: unknown) => {
        clearTimeout(timer);
        callback(error ? explain(error) : error, result);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          clearTimeout(timer);
          return value;
        },
        (error) => {
          clearTimeout(timer);
          throw explain(error);
        },
      );
    }
    // a Submittable (cursor, stream) reports through its own events: not bounded here
    clearTimeout(timer);
    return result;
  };
  (client as { query: unknown }).query = bounded;
}

export async function openDatabase(
  config: DatabaseConfig,
  options: OpenOptions = {},
): Promise<Database> {
  const migrate = options.migrate ?? true;
  if (config.kind === "pglite") {
    const ownsPglite = !options.pglite;
    let pglite = options.pglite;
    if (!pglite) {
      if (!config.dataDir.startsWith("memory://")) mkdirSync(config.dataDir, { recursive: true });
      try {
        const { PGlite } = await import("@electric-sql/pglite");
        pglite = await PGlite.create(config.dataDir);
      } catch (error) {
        throw new DatabaseUnavailableError(
          `database: cannot open the embedded database in ${config.dataDir}: ${(error as Error).message}`,
        );
      }
    }
    const db = pglite;
    if (migrate) {
      await applyMigrations({ kind: "pglite", pglite: db }, async (text) => {
        return (await db.query<Record<string, unknown>>(text)).rows;
      });
    }
    const { PrismaPGlite } = await import("pglite-prisma-adapter");
    const prisma = createClient(new PrismaPGlite(db), options.onQuery);
    return {
      kind: "pglite",
      prisma,
      pool: undefined,
      pglite: db,
      prepared: <T>(text: string, values: unknown[]) =>
        prisma.$queryRawUnsafe<T[]>(text, ...values),
      // (no deadline: the embedded database runs in this process, one statement at a time)
      transaction: (work) =>
        db.transaction(async (tx) => {
          const statements = new Statements();
          const result = await statements.of(() =>
            work(<T>(text: string, values: unknown[] = []) => {
              options.onQuery?.(text);
              return statements.track<T>(tx.query<T>(text, values));
            }),
          );
          await statements.answered();
          return result;
        }),
      ping: async () => {
        await db.query("select 1");
      },
      close: async () => {
        await prisma.$disconnect();
        if (ownsPglite) await db.close();
      },
    };
  }

  const pool = new pg.Pool({
    connectionString: config.url,
    // statements sent without waiting for the answer before (see Statements)
    pipeline: true,
    max: config.poolMax,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: config.idleTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: config.statementTimeoutMs,
    idle_in_transaction_session_timeout: config.statementTimeoutMs * 2,
    application_name: "optgraph",
  });
  // A connection that dies while idle in the pool must not crash the process.
  pool.on("error", () => undefined);
  // The server answers (or cancels) within the statement timeout; allow one connect timeout more
  // for the network before a query counts as lost.
  const readTimeoutMs = config.statementTimeoutMs + config.connectTimeoutMs;
  pool.on("connect", (client) => {
    // Nor may a connection that dies while handed out. The pool stops listening for its errors
    // when it hands it out, and a borrower that awaits pool.connect() (the Prisma adapter's
    // transactions) starts listening a microtask later; a new connection's ReadyForQuery and a
    // FATAL (pg_terminate_backend, a shutdown) parsed from one packet land in that gap, and an
    // 'error' event nobody hears ends the process. The connection is marked broken either way,
    // so the borrower's next query fails and the pool drops it.
    client.on("error", () => undefined);
    boundQueries(client, readTimeoutMs);
  });
  try {
    await pool.query("select 1");
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DatabaseUnavailableError(
      `database: cannot connect to ${redactUrl(config.url)} (${reason}: ${(error as Error).message})`,
    );
  }
  if (migrate) {
    await applyMigrations({ kind: "postgres", url: config.url }, async (text) => {
      return (await pool.query(text)).rows as Record<string, unknown>[];
    });
  }
  const prisma = createClient(new PrismaPg(pool), options.onQuery);
  return {
    kind: "postgres",
    prisma,
    pool,
    pglite: undefined,
    prepared: async <T>(text: string, values: unknown[], name?: string) => {
      options.onQuery?.(text);
      return (await pool.query({ name, text, values, types: UTC_TIMESTAMPS })).rows as T[];
    },
    transaction: async (work, { timeoutMs } = {}) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      let expired = false;
      const deadline =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              expired = true;
              closeNow(client);
            }, timeoutMs);
      const statements = new Statements();
      try {
        statements.track(client.query("BEGIN"));
        const result = await statements.of(() =>
          work(<T>(text: string, values: unknown[] = []) => {
            options.onQuery?.(text);
            return statements.track<T>(client.query({ text, values, types: UTC_TIMESTAMPS }));
          }),
        );
        statements.track(client.query("COMMIT"));
        await statements.answered();
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackFailed: Error) => {
          broken = rollbackFailed; // the connection is gone: the pool must not hand it out again
        });
        if (expired) {
          throw new DatabaseUnavailableError(
            `database: the transaction was still open after ${timeoutMs} ms and was rolled back`,
          );
        }
        throw error;
      } finally {
        clearTimeout(deadline);
        client.release(expired ? new Error("transaction timed out") : broken);
      }
    },
    ping: async () => {
      await pool.query("select 1");
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
