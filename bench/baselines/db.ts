// The baselines' raw database access: node-postgres on PostgreSQL (BENCH_DB_URL), or the PGlite
// instance itself on the embedded engine (BENCH_PGLITE_DIR, a copy of optgraph's data directory),
// since PGlite is one process's database and its driver is the instance.
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface RawDb extends Queryable {
  readonly kind: "postgres" | "pglite";
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openRawDb(poolMax = 10): Promise<RawDb> {
  const url = process.env.BENCH_DB_URL;
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: poolMax, keepAlive: true });
    pool.on("error", () => undefined);
    await pool.query("select 1");
    return {
      kind: "postgres",
      query: async <T>(sql: string, params?: unknown[]) =>
        (await pool.query(sql, params)).rows as T[],
      transaction: async (work) => {
        const client = await pool.connect();
        try {
          await client.query("begin");
          const result = await work({
            query: async <T>(sql: string, params?: unknown[]) =>
              (await client.query(sql, params)).rows as T[],
          });
          await client.query("commit");
          return result;
        } catch (error) {
          await client.query("rollback").catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  }
  const dir = process.env.BENCH_PGLITE_DIR;
  if (!dir) throw new Error("BENCH_DB_URL or BENCH_PGLITE_DIR is required");
  const db = await PGlite.create(dir);
  return {
    kind: "pglite",
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async <T>(sql: string, params?: unknown[]) =>
            (await tx.query<T>(sql, params)).rows,
        }),
      ),
    close: () => db.close(),
  };
}

/** Closes `db` and exits on SIGTERM/SIGINT (PGlite must close to keep its files sound). */
export function closeOnSignal(close: () => Promise<void>) {
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
