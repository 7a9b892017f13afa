// One running optgraph per test worker (real HTTP on port 0, on PGlite or PostgreSQL as the
// project says), shared by every test in the worker. Tests isolate by data: each makes its own
// organization with `newOrganization()`.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";

export const PLATFORM_KEY = "og_test_platform_key_0123456789";

export type Engine = "pglite" | "postgres";
export const engine = (process.env.OPTGRAPH_TEST_ENGINE ?? "pglite") as Engine;

/**
 * For what does not depend on the database (the transport, a browser page, which modules load)
 * or is measured on the engine production runs: true in one project only, PostgreSQL's when the
 * suite has one, PGlite's otherwise.
 */
export const onceAcrossEngines = engine === (process.env.TEST_DATABASE_URL ? "postgres" : "pglite");

let shared: Promise<App> | undefined;

let copies = 0;
let copiesDir: string | null = null;

/**
 * A fresh embedded data directory for one server: a copy of the run's migrated template (a second
 * instead of PGlite's initdb), removed when the worker exits; `memory://` outside the pglite project.
 */
export function embeddedDataDir(): string {
  const template = inject("pgliteTemplate");
  if (!template) return "memory://";
  if (copiesDir === null) {
    const dir = join(template.copies, String(process.pid));
    mkdirSync(dir, { recursive: true });
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    copiesDir = dir;
  }
  const dataDir = join(copiesDir, String(++copies));
  cpSync(template.dataDir, dataDir, { recursive: true });
  return dataDir;
}

/** Environment for a server of this test project (PGlite in memory, or the run's PostgreSQL). */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    OPTGRAPH_ADMIN_KEY: PLATFORM_KEY,
    OPTGRAPH_SHUTDOWN_GRACE_MS: "2000",
    // tests fire requests as fast as they can; the rate-limit tests turn limits on themselves
    OPTGRAPH_RATE_LIMIT_ADMIN: "0",
    OPTGRAPH_RATE_LIMIT_OPERATOR: "0",
    OPTGRAPH_RATE_LIMIT_PARTNER: "0",
    OPTGRAPH_RATE_LIMIT_VIEWER: "0",
    // tests send unknown keys from one address; the throttling test turns it on itself
    OPTGRAPH_AUTH_FAILURES_PER_MINUTE: "0",
    // the sweeps' statements would land in a test's recorded queries whenever the minute came
    // round; tests run the sweeps themselves, with their own clock
    OPTGRAPH_SWEEP_INTERVAL_MS: "0",
    ...(engine === "postgres"
      ? { DATABASE_URL: inject("postgresUrl") }
      : { OPTGRAPH_DATA_DIR: extra.OPTGRAPH_DATA_DIR ?? embeddedDataDir() }),
    ...extra,
  };
}

let recording: string[] | null = null;

/** The SQL statements the shared app sends while `work` runs (tests in a worker run one at a time). */
export async function recordQueries<T>(
  work: (queries: readonly string[]) => Promise<T>,
): Promise<{ result: T; queries: string[] }> {
  const queries: string[] = [];
  recording = queries;
  try {
    return { result: await work(queries), queries };
  } finally {
    recording = null;
  }
}

export function testApp(): Promise<App> {
  shared ??= startApp(loadConfig(testEnv()), {
    logError: process.env.TEST_LOG_ERRORS ? (e) => console.error("LOGGED", e) : () => undefined,
    onQuery: (sql) => recording?.push(sql),
  });
  return shared;
}
