// Environment variables turned into one typed configuration object. A bad value stops start-up
// with one line naming the variable and what is wrong with it.

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
  env: "development" | "production" | "test";
  host: string;
  port: number;
  database: DatabaseConfig;
  /** bootstrap ADMIN key for the first organization; random and printed once when unset */
  adminKey: string | undefined;
  /** region used to read phone numbers written without a country code */
  defaultRegion: string;
  /** how long a double opt-in may stay PENDING before it expires */
  pendingTtlHours: number;
  /** base URL Twilio signs webhook requests with, when the service sits behind a proxy */
  publicUrl: string | undefined;
  twilioAuthToken: string | undefined;
  redisUrl: string | undefined;
  /** GraphiQL, introspection and field suggestions */
  exposeSchema: boolean;
  shutdownGraceMs: number;
  /** events a live subscription may hold for a slow consumer before it is closed */
  streamBufferSize: number;
  /** how often streams look for new rows without a wake-up */
  streamPollMs: number;
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

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function urlVar(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, "is not a valid URL");
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(" or ")}, got ${url.protocol}`);
  }
  return raw;
}

/**
 * Tracing is on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set,
 * unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none; off, no OpenTelemetry SDK is loaded.
 */
function tracingConfig(env: Env): TracingConfig | undefined {
  if (boolVar(env, "OTEL_SDK_DISABLED", false)) return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim() || "otlp";
  if (exporter === "none") return undefined;
  if (exporter !== "otlp") {
    throw new ConfigError("OTEL_TRACES_EXPORTER", `must be otlp or none, got "${exporter}"`);
  }
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    : env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? "OTEL_EXPORTER_OTLP_ENDPOINT"
      : undefined;
  if (!endpoint) return undefined;
  urlVar(env, endpoint, ["http:", "https:"]);
  const protocolVar = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
    : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = env[protocolVar] || "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") {
    throw new ConfigError(protocolVar, `must be http/protobuf or http/json, got "${protocol}"`);
  }
  return { protocol };
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV ?? "development";
  if (nodeEnv !== "development" && nodeEnv !== "production" && nodeEnv !== "test") {
    throw new ConfigError("NODE_ENV", `must be development, production or test, got "${nodeEnv}"`);
  }
  const databaseUrl = urlVar(env, "DATABASE_URL", ["postgres:", "postgresql:"]);
  const database: DatabaseConfig = databaseUrl
    ? {
        kind: "postgres",
        url: databaseUrl,
        poolMax: intVar(env, "DB_POOL_MAX", 10, 1, 1000),
        connectTimeoutMs: intVar(env, "DB_CONNECT_TIMEOUT_MS", 5000, 100, 600_000),
        statementTimeoutMs: intVar(env, "DB_STATEMENT_TIMEOUT_MS", 15_000, 100, 3_600_000),
        idleTimeoutMs: intVar(env, "DB_IDLE_TIMEOUT_MS", 30_000, 100, 3_600_000),
      }
    : { kind: "pglite", dataDir: env.OPTGRAPH_DATA_DIR || ".optgraph/db" };

  const adminKey = env.OPTGRAPH_ADMIN_KEY || undefined;
  if (adminKey !== undefined && adminKey.length < 16) {
    throw new ConfigError("OPTGRAPH_ADMIN_KEY", "must be at least 16 characters long");
  }
  const defaultRegion = (env.OPTGRAPH_DEFAULT_REGION || "US").toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultRegion)) {
    throw new ConfigError(
      "OPTGRAPH_DEFAULT_REGION",
      `must be a two-letter country code, got "${defaultRegion}"`,
    );
  }

  return {
    env: nodeEnv,
    host: env.HOST || "0.0.0.0",
    port: intVar(env, "PORT", 4000, 0, 65535),
    database,
    adminKey,
    defaultRegion,
    pendingTtlHours: intVar(env, "OPTGRAPH_PENDING_TTL_HOURS", 72, 1, 24 * 365),
    publicUrl: urlVar(env, "OPTGRAPH_PUBLIC_URL", ["http:", "https:"]),
    twilioAuthToken: env.TWILIO_AUTH_TOKEN || undefined,
    redisUrl: urlVar(env, "REDIS_URL", ["redis:", "rediss:"]),
    exposeSchema: boolVar(env, "OPTGRAPH_EXPOSE_SCHEMA", nodeEnv !== "production"),
    shutdownGraceMs: intVar(env, "OPTGRAPH_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    streamBufferSize: intVar(env, "OPTGRAPH_STREAM_BUFFER", 1000, 1, 1_000_000),
    streamPollMs: intVar(env, "OPTGRAPH_STREAM_POLL_MS", 1000, 10, 600_000),
    limits: {
      depth: intVar(env, "OPTGRAPH_MAX_DEPTH", 6, 1, 100),
      aliases: intVar(env, "OPTGRAPH_MAX_ALIASES", 15, 0, 1000),
      directives: intVar(env, "OPTGRAPH_MAX_DIRECTIVES", 50, 0, 1000),
      tokens: intVar(env, "OPTGRAPH_MAX_TOKENS", 1000, 10, 100_000),
      cost: intVar(env, "OPTGRAPH_MAX_COST", 5000, 10, 10_000_000),
      characters: intVar(env, "OPTGRAPH_MAX_QUERY_CHARS", 20_000, 100, 10_000_000),
      bodyBytes: intVar(env, "OPTGRAPH_MAX_BODY_BYTES", 1_048_576, 1024, 1_073_741_824),
    },
    rateLimits: {
      ADMIN: intVar(env, "OPTGRAPH_RATE_LIMIT_ADMIN", 500, 0, 1_000_000),
      OPERATOR: intVar(env, "OPTGRAPH_RATE_LIMIT_OPERATOR", 200, 0, 1_000_000),
      PARTNER: intVar(env, "OPTGRAPH_RATE_LIMIT_PARTNER", 100, 0, 1_000_000),
      VIEWER: intVar(env, "OPTGRAPH_RATE_LIMIT_VIEWER", 50, 0, 1_000_000),
    },
    allowedOrigins: (env.OPTGRAPH_ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((origin) => origin.trim())
      .filter(Boolean),
    authFailuresPerMinute: intVar(env, "OPTGRAPH_AUTH_FAILURES_PER_MINUTE", 60, 0, 1_000_000),
    maxConnectionsPerKey: intVar(env, "OPTGRAPH_MAX_CONNECTIONS_PER_KEY", 50, 1, 1_000_000),
    maxSubscriptionsPerConnection: intVar(
      env,
      "OPTGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION",
      100,
      1,
      1_000_000,
    ),
    keepAliveTimeoutMs: intVar(env, "OPTGRAPH_KEEP_ALIVE_TIMEOUT_MS", 65_000, 1000, 600_000),
    persistedOperationsFile: env.OPTGRAPH_PERSISTED_OPERATIONS || undefined,
    logLevel: env.LOG_LEVEL || (nodeEnv === "test" ? "silent" : "info"),
    metricsToken: env.OPTGRAPH_METRICS_TOKEN || undefined,
    tracing: tracingConfig(env),
  };
}
