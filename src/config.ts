// Environment variables turned into one typed configuration object. Each variable is defined once
// in config-definition.ts; a bad value stops start-up with one line naming the variable and what is
// wrong with it, and an unknown OPTGRAPH_* variable is warned about with the nearest valid name.
import { closest, distance } from "fastest-levenshtein";
import {
  readVariable,
  VARIABLES,
  type Env,
  type NodeEnv,
  type ValueOf,
  type VariableName,
} from "./config-definition.ts";

export { ConfigError } from "./config-definition.ts";

export type DatabaseConfig =
  | { kind: "pglite"; dataDir: string }
  | {
      kind: "postgres";
      url: string;
      poolMax: number;
      connectTimeoutMs: number;
      statementTimeoutMs: number;
      idleTimeoutMs: number;
    };

export interface Config {
  env: NodeEnv;
  host: string;
  port: number;
  database: DatabaseConfig;
  /** bootstrap ADMIN key for the first organization; random and printed once when unset */
  adminKey: string | undefined;
  /** region used to read phone numbers written without a country code */
  defaultRegion: string;
  /** how long a double opt-in may stay PENDING before it expires */
  pendingTtlHours: number;
  /** business days taken off the FCC's 10 to set a flagged message's review deadline */
  reviewMarginBusinessDays: number;
  /** base URL Twilio signs webhook requests with, when the service sits behind a proxy */
  publicUrl: string | undefined;
  twilioAuthToken: string | undefined;
  redisUrl: string | undefined;
  /** GraphiQL, introspection and field suggestions */
  exposeSchema: boolean;
  shutdownGraceMs: number;
  /** how often the expiry and review-deadline sweeps run (0: never) */
  sweepIntervalMs: number;
  /** events a live subscription may hold for a slow consumer before it is closed */
  streamBufferSize: number;
  /** how often streams look for new rows without a wake-up */
  streamPollMs: number;
  /** canSend's in-memory consents (src/services/send-cache.ts) */
  sendCache: { enabled: boolean; maxConsents: number; freshnessMs: number };
  limits: QueryLimits;
  /** operations per second per API key, by role (0: unlimited) */
  rateLimits: Record<"ADMIN" | "OPERATOR" | "PARTNER" | "VIEWER", number>;
  /**
   * browser origins allowed to open WebSockets and to read cross-origin HTTP answers (CORS; "*" for
   * any); same-host and origin-less always are
   */
  allowedOrigins: readonly string[];
  /** failed API key lookups per client address and minute before it gets 429 (0: unlimited) */
  authFailuresPerMinute: number;
  /** WebSocket connections and SSE streams one API key may hold open at once, per instance */
  maxConnectionsPerKey: number;
  /** subscriptions one WebSocket connection may hold at once */
  maxSubscriptionsPerConnection: number;
  /** how long an idle keep-alive HTTP connection stays open (longer than any client's) */
  keepAliveTimeoutMs: number;
  /** a JSON manifest {id: document}: when set, PARTNER keys may run only these operations */
  persistedOperationsFile: string | undefined;
  logLevel: string;
  /** when set, GET /metrics needs `Authorization: Bearer <token>` */
  metricsToken: string | undefined;
  /** OpenTelemetry tracing, on when an OTLP endpoint is set (see tracingConfig) */
  tracing: TracingConfig | undefined;
}

/** How spans leave: OTLP over HTTP. The SDK reads the other OTEL_* variables itself. */
export interface TracingConfig {
  protocol: "http/protobuf" | "http/json";
}

export interface QueryLimits {
  depth: number;
  aliases: number;
  directives: number;
  tokens: number;
  cost: number;
  /** characters of the query text */
  characters: number;
  /** bytes of a request body */
  bodyBytes: number;
}

/**
 * Tracing is on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set,
 * unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none; off, no OpenTelemetry SDK is loaded.
 */
function tracingConfig(env: Env): TracingConfig | undefined {
  const read = <K extends VariableName>(name: K): ValueOf<K> => readVariable(env, name);
  if (read("OTEL_SDK_DISABLED") || read("OTEL_TRACES_EXPORTER") === "none") return undefined;
  if (!read("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") && !read("OTEL_EXPORTER_OTLP_ENDPOINT")) {
    return undefined;
  }
  return {
    protocol:
      (read("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") as TracingConfig["protocol"] | undefined) ??
      read("OTEL_EXPORTER_OTLP_PROTOCOL"),
  };
}

/** Every setting is read through its definition (config-definition.ts): type, bounds, default. */
export function loadConfig(env: Env = process.env): Config {
  const read = <K extends VariableName>(name: K): ValueOf<K> => readVariable(env, name);
  const nodeEnv = read("NODE_ENV");
  const databaseUrl = read("DATABASE_URL");
  const database: DatabaseConfig = databaseUrl
    ? {
        kind: "postgres",
        url: databaseUrl,
        poolMax: read("DB_POOL_MAX"),
        connectTimeoutMs: read("DB_CONNECT_TIMEOUT_MS"),
        statementTimeoutMs: read("DB_STATEMENT_TIMEOUT_MS"),
        idleTimeoutMs: read("DB_IDLE_TIMEOUT_MS"),
      }
    : { kind: "pglite", dataDir: read("OPTGRAPH_DATA_DIR") };

  return {
    env: nodeEnv,
    host: read("HOST"),
    port: read("PORT"),
    database,
    adminKey: read("OPTGRAPH_ADMIN_KEY"),
    defaultRegion: read("OPTGRAPH_DEFAULT_REGION").toUpperCase(),
    pendingTtlHours: read("OPTGRAPH_PENDING_TTL_HOURS"),
    reviewMarginBusinessDays: read("OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS"),
    publicUrl: read("OPTGRAPH_PUBLIC_URL"),
    twilioAuthToken: read("TWILIO_AUTH_TOKEN"),
    redisUrl: read("REDIS_URL"),
    exposeSchema: read("OPTGRAPH_EXPOSE_SCHEMA"),
    shutdownGraceMs: read("OPTGRAPH_SHUTDOWN_GRACE_MS"),
    sweepIntervalMs: read("OPTGRAPH_SWEEP_INTERVAL_MS"),
    streamBufferSize: read("OPTGRAPH_STREAM_BUFFER"),
    streamPollMs: read("OPTGRAPH_STREAM_POLL_MS"),
    sendCache: {
      enabled: read("OPTGRAPH_SEND_CACHE"),
      maxConsents: read("OPTGRAPH_SEND_CACHE_MAX_CONSENTS"),
      freshnessMs: read("OPTGRAPH_SEND_CACHE_FRESHNESS_MS"),
    },
    limits: {
      depth: read("OPTGRAPH_MAX_DEPTH"),
      aliases: read("OPTGRAPH_MAX_ALIASES"),
      directives: read("OPTGRAPH_MAX_DIRECTIVES"),
      tokens: read("OPTGRAPH_MAX_TOKENS"),
      cost: read("OPTGRAPH_MAX_COST"),
      characters: read("OPTGRAPH_MAX_QUERY_CHARS"),
      bodyBytes: read("OPTGRAPH_MAX_BODY_BYTES"),
    },
    rateLimits: {
      ADMIN: read("OPTGRAPH_RATE_LIMIT_ADMIN"),
      OPERATOR: read("OPTGRAPH_RATE_LIMIT_OPERATOR"),
      PARTNER: read("OPTGRAPH_RATE_LIMIT_PARTNER"),
      VIEWER: read("OPTGRAPH_RATE_LIMIT_VIEWER"),
    },
    allowedOrigins: read("OPTGRAPH_ALLOWED_ORIGINS"),
    authFailuresPerMinute: read("OPTGRAPH_AUTH_FAILURES_PER_MINUTE"),
    maxConnectionsPerKey: read("OPTGRAPH_MAX_CONNECTIONS_PER_KEY"),
    maxSubscriptionsPerConnection: read("OPTGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION"),
    keepAliveTimeoutMs: read("OPTGRAPH_KEEP_ALIVE_TIMEOUT_MS"),
    persistedOperationsFile: read("OPTGRAPH_PERSISTED_OPERATIONS"),
    logLevel: read("LOG_LEVEL"),
    metricsToken: read("OPTGRAPH_METRICS_TOKEN"),
    tracing: tracingConfig(env),
  };
}

/** How far a misspelling may be from a defined name to be suggested (edits). */
const SUGGESTION_DISTANCE = 3;

/**
 * One warning per OPTGRAPH_* variable in `env` that is not defined (a misspelling is otherwise
 * silently ignored), naming the nearest defined variable when one is close.
 */
export function unknownVariableWarnings(env: Env = process.env): string[] {
  const known = Object.keys(VARIABLES);
  return Object.keys(env)
    .filter((name) => name.startsWith("OPTGRAPH_") && !(name in VARIABLES))
    .sort()
    .map((name) => {
      const nearest = closest(name, known);
      return distance(name, nearest) <= SUGGESTION_DISTANCE
        ? `unknown variable ${name}; did you mean ${nearest}?`
        : `unknown variable ${name}; it is ignored`;
    });
}
