// Assembles a running optgraph: configuration → database (migrated) → bootstrap organization →
// HTTP server. Used by the entry point and by tests, which start it on port 0.
import type { PGlite } from "@electric-sql/pglite";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { Redis } from "ioredis";
import { createEdge } from "./http/edge.ts";
import { createLogger, errorFields } from "./http/logging.ts";
import { createMetrics } from "./http/metrics.ts";
import { createRateLimits, loadPersistedOperations } from "./http/protections.ts";
import { startServer, type OptgraphServer } from "./http/server.ts";
import { startTracing } from "./http/tracing.ts";
import { bootstrapOrganization, type Bootstrap } from "./services/organizations.ts";
import { expirePendingConsents } from "./services/consents.ts";
import { applyOverdueReviews } from "./services/keyword-reviews.ts";
import { createRuntime, type Runtime } from "./services/runtime.ts";

/**
 * Expires unconfirmed double opt-ins and applies held messages past their review deadline, every
 * OPTGRAPH_SWEEP_INTERVAL_MS (one sweep at a time; errors are logged; 0: never).
 */
function startExpirySweeper(runtime: Runtime, logError: (error: unknown) => void) {
  let running: Promise<unknown> = Promise.resolve();
  const intervalMs = runtime.config.sweepIntervalMs;
  if (intervalMs === 0) return { stop: async () => undefined };
  const timer = setInterval(() => {
    running = running.then(async () => {
      await expirePendingConsents(runtime).catch(logError);
      await applyOverdueReviews(runtime).catch(logError);
    });
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

export interface App {
  readonly config: Config;
  readonly db: Database;
  readonly runtime: Runtime;
  readonly server: OptgraphServer;
  readonly bootstrap: Bootstrap;
  stop(): Promise<void>;
}

export interface AppOptions {
  /** an already open embedded database (tests share one per worker) */
  pglite?: PGlite;
  /** sees the SQL of every query (tests count round trips) */
  onQuery?: (sql: string) => void;
  logError?: (error: unknown) => void;
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  // off unless an OTLP endpoint is set: then nothing of OpenTelemetry is loaded
  const tracing = config.tracing ? await startTracing(config.tracing) : undefined;
  const opened = await openDatabase(config.database, {
    pglite: options.pglite,
    onQuery: options.onQuery,
  }).catch(async (error: unknown) => {
    await tracing?.shutdown();
    throw error;
  });
  const db = tracing ? tracing.traceDatabase(opened) : opened;
  const logger = createLogger(config.logLevel);
  const logError =
    options.logError ??
    ((error: unknown) => logger.error({ err: errorFields(error) }, "unexpected error"));
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : null;
  redis?.on("error", logError);
  try {
    const persistedOperations = config.persistedOperationsFile
      ? loadPersistedOperations(config.persistedOperationsFile)
      : null;
    const bootstrap = await bootstrapOrganization(db.prisma, config.adminKey);
    const runtime = createRuntime(config, db, { onError: logError });
    const server = await startServer(runtime, db, {
      host: config.host,
      port: config.port,
      shutdownGraceMs: config.shutdownGraceMs,
      logger,
      logError,
      metrics: createMetrics(runtime, db),
      tracingPlugins: tracing?.plugins ?? [],
      edge: createEdge({
        config,
        prisma: db.prisma,
        redis,
        rateLimits: createRateLimits(config, redis),
        persistedOperations,
      }),
    });
    const expiry = startExpirySweeper(runtime, logError);
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        await expiry.stop();
        await server.close();
        await runtime.close();
        redis?.disconnect();
        await db.close();
        await tracing?.shutdown();
      })());
    return { config, db, runtime, server, bootstrap, stop };
  } catch (error) {
    redis?.disconnect();
    await db.close().catch(() => undefined);
    await tracing?.shutdown();
    throw error;
  }
}
