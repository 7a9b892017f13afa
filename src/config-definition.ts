// Every environment variable optgraph reads, defined once: its name, type (with bounds), default,
// meaning and whether it is secret. `loadConfig` (config.ts) reads them only through here, the
// README's configuration table is generated from here (`npm run docs:config`), and an unknown
// OPTGRAPH_* variable is reported with the nearest name defined here.
// Adding a variable: one entry in VARIABLES, read with `read("NAME")` in loadConfig.

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

export const NODE_ENVS = ["development", "production", "test"] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export interface Variable<T> {
  /** the type as the table shows it */
  readonly type: string;
  /** the default as the table shows it */
  readonly default: string;
  readonly description: string;
  /** a secret is never echoed back in an error message */
  readonly secret: boolean;
  parse(raw: string | undefined, name: string, env: Env): T;
}

/** NODE_ENV itself is read before anything whose default depends on it. */
function nodeEnvOf(env: Env): NodeEnv {
  return VARIABLES.NODE_ENV.parse(env.NODE_ENV, "NODE_ENV", env);
}

const unset = (raw: string | undefined): raw is undefined => raw === undefined || raw === "";

/** A default, fixed or decided by NODE_ENV. */
type Default<T> = T | ((nodeEnv: NodeEnv) => T);

const defaultOf = <T>(fallback: Default<T>, env: Env): T =>
  typeof fallback === "function" ? (fallback as (nodeEnv: NodeEnv) => T)(nodeEnvOf(env)) : fallback;

interface Described {
  description: string;
}

function integer(
  spec: Described & { default: number; min: number; max: number },
): Variable<number> {
  return {
    type: `integer ${spec.min}–${spec.max}`,
    default: `\`${spec.default}\``,
    description: spec.description,
    secret: false,
    parse(raw, name) {
      if (unset(raw)) return spec.default;
      if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
      const value = Number(raw);
      if (value < spec.min || value > spec.max) {
        throw new ConfigError(name, `must be between ${spec.min} and ${spec.max}, got ${value}`);
      }
      return value;
    },
  };
}

function boolean(
  spec: Described & { default: Default<boolean>; defaultText: string },
): Variable<boolean> {
  return {
    type: "`true` / `false`",
    default: spec.defaultText,
    description: spec.description,
    secret: false,
    parse(raw, name, env) {
      if (unset(raw)) return defaultOf(spec.default, env);
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ConfigError(name, `must be true or false, got "${raw}"`);
    },
  };
}

function oneOf<const V extends string>(
  spec: Described & { values: readonly V[]; default: Default<V>; defaultText: string },
): Variable<V> {
  return {
    type: spec.values.map((value) => `\`${value}\``).join(", "),
    default: spec.defaultText,
    description: spec.description,
    secret: false,
    parse(raw, name, env) {
      if (unset(raw)) return defaultOf(spec.default, env);
      if (!(spec.values as readonly string[]).includes(raw)) {
        const expected = `${spec.values.slice(0, -1).join(", ")} or ${spec.values.at(-1)}`;
        throw new ConfigError(name, `must be ${expected}, got "${raw}"`);
      }
      return raw as V;
    },
  };
}

function url(
  spec: Described & { protocols: readonly string[]; secret: boolean },
): Variable<string | undefined> {
  return {
    type: `URL (${spec.protocols.map((protocol) => `\`${protocol}\``).join(", ")})`,
    default: "unset",
    description: spec.description,
    secret: spec.secret,
    parse(raw, name) {
      if (unset(raw)) return undefined;
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new ConfigError(name, "is not a valid URL");
      }
      if (!spec.protocols.includes(parsed.protocol)) {
        throw new ConfigError(
          name,
          `must use ${spec.protocols.join(" or ")}, got ${parsed.protocol}`,
        );
      }
      return raw;
    },
  };
}

/** Free text; `check` names what is wrong with a value, or returns null. */
function text<D extends string | undefined>(
  spec: Described & {
    type?: string;
    default: D;
    defaultText?: string;
    secret: boolean;
    check?: (value: string) => string | null;
  },
): Variable<string | D> {
  return {
    type: spec.type ?? "text",
    default: spec.defaultText ?? (spec.default === undefined ? "unset" : `\`${spec.default}\``),
    description: spec.description,
    secret: spec.secret,
    parse(raw, name) {
      if (unset(raw)) return spec.default;
      const problem = spec.check?.(raw);
      if (problem) throw new ConfigError(name, problem);
      return raw;
    },
  };
}

function list(spec: Described): Variable<readonly string[]> {
  return {
    type: "comma-separated list",
    default: "empty",
    description: spec.description,
    secret: false,
    parse: (raw) =>
      (raw ?? "")
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean),
  };
}

const rateLimit = (role: string, perSecond: number) =>
  integer({
    default: perSecond,
    min: 0,
    max: 1_000_000,
    description: `operations per second per ${role} key (each root field counts; 0: no limit)`,
  });

/** In the README's order: server, database, the organization's data, exposure, limits, streams. */
export const VARIABLES = {
  NODE_ENV: oneOf({
    values: NODE_ENVS,
    default: "development",
    defaultText: "`development`",
    description:
      "`production` turns off GraphiQL, introspection, name suggestions and limit details in errors",
  }),
  PORT: integer({
    default: 4000,
    min: 0,
    max: 65535,
    description:
      "HTTP port (GraphQL and GraphiQL on `/graphql`, WebSocket on the same path, `/admin`, `/healthz`, `/readyz`, `/metrics`)",
  }),
  HOST: text({ default: "0.0.0.0", secret: false, description: "interface to listen on" }),
  OPTGRAPH_PUBLIC_URL: url({
    protocols: ["http:", "https:"],
    secret: false,
    description:
      "the service's public base URL, which Twilio signs webhooks with (set it behind a proxy)",
  }),
  LOG_LEVEL: oneOf({
    values: LOG_LEVELS,
    default: (nodeEnv) => (nodeEnv === "test" ? "silent" : "info"),
    defaultText: "`info` (`silent` when `NODE_ENV=test`)",
    description: "the least severe JSON log line written to standard output",
  }),
  OPTGRAPH_KEEP_ALIVE_TIMEOUT_MS: integer({
    default: 65_000,
    min: 1000,
    max: 600_000,
    description:
      "how long an idle keep-alive HTTP connection stays open: longer than clients keep theirs (undici: 4 s), so none reuses a closing one",
  }),
  OPTGRAPH_SWEEP_INTERVAL_MS: integer({
    default: 60_000,
    min: 0,
    max: 3_600_000,
    description:
      "how often lapsed double opt-ins expire and overdue held messages apply (0: never)",
  }),
  OPTGRAPH_SHUTDOWN_GRACE_MS: integer({
    default: 10_000,
    min: 0,
    max: 600_000,
    description: "how long in-flight requests may finish after SIGTERM",
  }),

  DATABASE_URL: url({
    protocols: ["postgres:", "postgresql:"],
    secret: true,
    description: "PostgreSQL to use; unset: the embedded PGlite database",
  }),
  OPTGRAPH_DATA_DIR: text({
    type: "directory",
    default: ".optgraph/db",
    secret: false,
    description: "PGlite data directory (`memory://` for a throwaway one)",
  }),
  DB_POOL_MAX: integer({
    default: 10,
    min: 1,
    max: 1000,
    description: "PostgreSQL pool size",
  }),
  DB_CONNECT_TIMEOUT_MS: integer({
    default: 5000,
    min: 100,
    max: 600_000,
    description: "PostgreSQL connection timeout (a pool never waits forever)",
  }),
  DB_STATEMENT_TIMEOUT_MS: integer({
    default: 15_000,
    min: 100,
    max: 3_600_000,
    description: "PostgreSQL statement timeout",
  }),
  DB_IDLE_TIMEOUT_MS: integer({
    default: 30_000,
    min: 100,
    max: 3_600_000,
    description: "idle PostgreSQL connections are closed after this",
  }),
  REDIS_URL: url({
    protocols: ["redis:", "rediss:"],
    secret: true,
    description:
      "Redis for wake-ups and rate limits shared by several instances; unset: this process alone",
  }),

  OPTGRAPH_ADMIN_KEY: text({
    default: undefined,
    defaultText: "random, printed once",
    secret: true,
    check: (value) => (value.length < 16 ? "must be at least 16 characters long" : null),
    description:
      "the platform ADMIN key created with the default organization when the database has none yet (16+ characters)",
  }),
  OPTGRAPH_DEFAULT_REGION: text({
    type: "two-letter country code",
    default: "US",
    secret: false,
    check: (value) =>
      /^[A-Za-z]{2}$/.test(value) ? null : `must be a two-letter country code, got "${value}"`,
    description: "region for phone numbers written without a country code",
  }),
  OPTGRAPH_PENDING_TTL_HOURS: integer({
    default: 72,
    min: 1,
    max: 24 * 365,
    description: "how long a double opt-in may stay pending before it expires",
  }),
  OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS: integer({
    default: 2,
    min: 0,
    max: 9,
    description:
      "business days (0–9) taken off the FCC's 10 to set a flagged message's `reviewDueAt`",
  }),
  TWILIO_AUTH_TOKEN: text({
    default: undefined,
    secret: true,
    description:
      "checks `X-Twilio-Signature` for organizations without a token of their own (`updateOrganization`)",
  }),

  OPTGRAPH_METRICS_TOKEN: text({
    default: undefined,
    secret: true,
    description: "when set, `GET /metrics` needs `Authorization: Bearer <token>` (401 otherwise)",
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: url({
    protocols: ["http:", "https:"],
    secret: false,
    description:
      "OTLP/HTTP collector base URL (`/v1/traces` appended): tracing on; unset: no OpenTelemetry SDK is loaded",
  }),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url({
    protocols: ["http:", "https:"],
    secret: false,
    description: "OTLP/HTTP URL for traces, used as given; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`",
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: oneOf({
    values: ["http/protobuf", "http/json"],
    default: "http/protobuf",
    defaultText: "`http/protobuf`",
    description: "how spans are sent (gRPC is not supported)",
  }),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: text({
    type: "`http/protobuf`, `http/json`",
    default: undefined,
    defaultText: "`OTEL_EXPORTER_OTLP_PROTOCOL`",
    secret: false,
    check: (value) =>
      value === "http/protobuf" || value === "http/json"
        ? null
        : "must be http/protobuf or http/json",
    description: "the same, for traces only",
  }),
  OTEL_TRACES_EXPORTER: oneOf({
    values: ["otlp", "none"],
    default: "otlp",
    defaultText: "`otlp`",
    description: "`none` turns tracing off",
  }),
  OTEL_SDK_DISABLED: boolean({
    default: false,
    defaultText: "`false`",
    description:
      "`true` turns tracing off; the SDK reads the other `OTEL_*` variables itself (service name, headers, sampler)",
  }),
  OPTGRAPH_SEND_CACHE: boolean({
    default: true,
    defaultText: "`true`",
    description: "canSend from memory (`false`: every decision reads the database)",
  }),
  OPTGRAPH_SEND_CACHE_MAX_CONSENTS: integer({
    default: 500_000,
    min: 1,
    max: 100_000_000,
    description: "consents the send cache holds at most, over all organizations (~360 bytes each)",
  }),
  OPTGRAPH_SEND_CACHE_FRESHNESS_MS: integer({
    default: 1000,
    min: 20,
    max: 600_000,
    description:
      "how long the send cache answers after confirming an organization's head: the most a lost wake-up can delay a change",
  }),
  OPTGRAPH_EXPOSE_SCHEMA: boolean({
    default: (nodeEnv) => nodeEnv !== "production",
    defaultText: "`true` unless `NODE_ENV=production`",
    description: "GraphiQL at `/graphql`, introspection and name suggestions",
  }),
  OPTGRAPH_ALLOWED_ORIGINS: list({
    description:
      "browser origins that may open WebSockets and read answers cross-origin (`*`: any); same-host always may",
  }),
  OPTGRAPH_PERSISTED_OPERATIONS: text({
    type: "file path",
    default: undefined,
    secret: false,
    description:
      "a JSON manifest `{ id: document }` (GraphQL Code Generator's): PARTNER keys may then run only these",
  }),

  OPTGRAPH_MAX_DEPTH: integer({
    default: 6,
    min: 1,
    max: 100,
    description: "deepest field nesting of an operation",
  }),
  OPTGRAPH_MAX_ALIASES: integer({
    default: 15,
    min: 0,
    max: 1000,
    description: "aliases in an operation",
  }),
  OPTGRAPH_MAX_DIRECTIVES: integer({
    default: 50,
    min: 0,
    max: 1000,
    description: "directives in an operation",
  }),
  OPTGRAPH_MAX_TOKENS: integer({
    default: 1000,
    min: 10,
    max: 100_000,
    description: "tokens in an operation",
  }),
  OPTGRAPH_MAX_COST: integer({
    default: 5000,
    min: 10,
    max: 10_000_000,
    description: "cost of an operation (`first`/`last` multiply)",
  }),
  OPTGRAPH_MAX_QUERY_CHARS: integer({
    default: 20_000,
    min: 100,
    max: 10_000_000,
    description: "characters of an operation's text",
  }),
  OPTGRAPH_MAX_BODY_BYTES: integer({
    default: 1_048_576,
    min: 1024,
    max: 1_073_741_824,
    description: "bytes of a request body (past it: 413, and the rest is not read)",
  }),
  OPTGRAPH_RATE_LIMIT_ADMIN: rateLimit("ADMIN", 500),
  OPTGRAPH_RATE_LIMIT_OPERATOR: rateLimit("OPERATOR", 200),
  OPTGRAPH_RATE_LIMIT_PARTNER: rateLimit("PARTNER", 100),
  OPTGRAPH_RATE_LIMIT_VIEWER: rateLimit("VIEWER", 50),
  OPTGRAPH_AUTH_FAILURES_PER_MINUTE: integer({
    default: 60,
    min: 0,
    max: 1_000_000,
    description:
      "failed API key lookups per client address and minute before it gets 429 (0: no limit)",
  }),
  OPTGRAPH_MAX_CONNECTIONS_PER_KEY: integer({
    default: 50,
    min: 1,
    max: 1_000_000,
    description: "WebSocket connections and SSE streams one API key may hold at once, per instance",
  }),
  OPTGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION: integer({
    default: 100,
    min: 1,
    max: 1_000_000,
    description: "operations one WebSocket connection may run at once",
  }),

  OPTGRAPH_STREAM_BUFFER: integer({
    default: 1000,
    min: 1,
    max: 1_000_000,
    description:
      "events a live subscription may hold for a slow client before it is closed (it resumes with `after`)",
  }),
  OPTGRAPH_STREAM_POLL_MS: integer({
    default: 1000,
    min: 10,
    max: 600_000,
    description: "how often live subscriptions look for new ledger rows without a wake-up",
  }),
} satisfies Record<string, Variable<unknown>>;

export type VariableName = keyof typeof VARIABLES;
export type ValueOf<K extends VariableName> = ReturnType<(typeof VARIABLES)[K]["parse"]>;

/**
 * NODE_ENV for code that runs while modules load (before loadConfig can report a bad value, which
 * it then does): an invalid one reads as the default.
 */
export function nodeEnvOrDefault(env: Env): NodeEnv {
  try {
    return nodeEnvOf(env);
  } catch {
    return "development";
  }
}

/** The typed value of one variable in `env` (its default when unset); a bad value throws ConfigError. */
export function readVariable<K extends VariableName>(env: Env, name: K): ValueOf<K> {
  return VARIABLES[name].parse(env[name], name, env) as ValueOf<K>;
}
