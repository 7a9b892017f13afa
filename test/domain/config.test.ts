// Unit tests of configuration: defaults, and a bad variable stops start-up with a ConfigError that
// names it (and never echoes a secret).
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  it("has defaults for an empty environment", () => {
    expect(loadConfig({})).toEqual({
      env: "development",
      host: "0.0.0.0",
      port: 4000,
      database: { kind: "pglite", dataDir: ".optgraph/db" },
      adminKey: undefined,
      defaultRegion: "US",
      pendingTtlHours: 72,
      reviewMarginBusinessDays: 2,
      publicUrl: undefined,
      twilioAuthToken: undefined,
      redisUrl: undefined,
      exposeSchema: true,
      shutdownGraceMs: 10_000,
      sweepIntervalMs: 60_000,
      streamBufferSize: 1000,
      streamPollMs: 1000,
      sendCache: { enabled: true, maxConsents: 500_000, freshnessMs: 1000 },
      limits: {
        depth: 6,
        aliases: 15,
        directives: 50,
        tokens: 1000,
        cost: 5000,
        characters: 20_000,
        bodyBytes: 1_048_576,
      },
      rateLimits: { ADMIN: 500, OPERATOR: 200, PARTNER: 100, VIEWER: 50 },
      allowedOrigins: [],
      authFailuresPerMinute: 60,
      maxConnectionsPerKey: 50,
      maxSubscriptionsPerConnection: 100,
      keepAliveTimeoutMs: 65_000,
      persistedOperationsFile: undefined,
      logLevel: "info",
      metricsToken: undefined,
      tracing: undefined,
    });
  });

  it("turns tracing on with an OTLP endpoint only, as the OTEL_* variables say", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    expect(loadConfig(endpoint).tracing).toEqual({ protocol: "http/protobuf" });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://collector/v1/traces" }).tracing,
    ).toEqual({ protocol: "http/protobuf" });
    expect(loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).tracing).toEqual({
      protocol: "http/json",
    });
    expect(
      loadConfig({
        ...endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      }).tracing,
    ).toEqual({ protocol: "http/json" });
    expect(loadConfig({ OTEL_SERVICE_NAME: "optgraph" }).tracing).toBeUndefined();
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: "true" }).tracing).toBeUndefined();
    expect(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: "none" }).tracing).toBeUndefined();
    expect(loadConfig({ OPTGRAPH_METRICS_TOKEN: "t0ken" }).metricsToken).toBe("t0ken");
  });

  it("treats empty strings as unset", () => {
    expect(
      loadConfig({ PORT: "", DATABASE_URL: "", OPTGRAPH_ADMIN_KEY: "", OPTGRAPH_DATA_DIR: "" }),
    ).toMatchObject({ port: 4000, adminKey: undefined, database: { kind: "pglite" } });
  });

  it("hides the schema in production unless told otherwise", () => {
    expect(loadConfig({ NODE_ENV: "production" }).exposeSchema).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", OPTGRAPH_EXPOSE_SCHEMA: "yes" }).exposeSchema).toBe(
      true,
    );
    expect(loadConfig({ NODE_ENV: "test", OPTGRAPH_EXPOSE_SCHEMA: "off" }).exposeSchema).toBe(
      false,
    );
  });

  it("reads PostgreSQL settings with their defaults", () => {
    expect(
      loadConfig({ DATABASE_URL: "postgresql://u:p@db.example:5432/optgraph" }).database,
    ).toEqual({
      kind: "postgres",
      url: "postgresql://u:p@db.example:5432/optgraph",
      poolMax: 10,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 15_000,
      idleTimeoutMs: 30_000,
    });
    expect(
      loadConfig({ DATABASE_URL: "postgres://h/db", DB_POOL_MAX: "25" }).database,
    ).toMatchObject({ poolMax: 25 });
  });

  it("reads the rest of the variables", () => {
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      OPTGRAPH_ADMIN_KEY: "k".repeat(16),
      OPTGRAPH_DEFAULT_REGION: "gb",
      OPTGRAPH_PENDING_TTL_HOURS: "24",
      OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS: "0",
      OPTGRAPH_PUBLIC_URL: "https://optgraph.example",
      TWILIO_AUTH_TOKEN: "token",
      REDIS_URL: "redis://cache:6379",
      OPTGRAPH_SHUTDOWN_GRACE_MS: "0",
      OPTGRAPH_SWEEP_INTERVAL_MS: "0",
      OPTGRAPH_DATA_DIR: "memory://",
    });
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 0,
      adminKey: "k".repeat(16),
      defaultRegion: "GB",
      pendingTtlHours: 24,
      reviewMarginBusinessDays: 0,
      publicUrl: "https://optgraph.example",
      twilioAuthToken: "token",
      redisUrl: "redis://cache:6379",
      shutdownGraceMs: 0,
      sweepIntervalMs: 0,
      database: { kind: "pglite", dataDir: "memory://" },
    });
  });

  it.each<[Record<string, string>, string]>([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "-1" }, "PORT"],
    [{ PORT: "80.5" }, "PORT"],
    [{ PORT: " 4000" }, "PORT"],
    [{ PORT: "65536" }, "PORT"],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL"],
    [{ DATABASE_URL: "mysql://u:p@h/db" }, "DATABASE_URL"],
    [{ DATABASE_URL: "postgres://h/db", DB_POOL_MAX: "0" }, "DB_POOL_MAX"],
    [{ DATABASE_URL: "postgres://h/db", DB_CONNECT_TIMEOUT_MS: "fast" }, "DB_CONNECT_TIMEOUT_MS"],
    [{ OPTGRAPH_ADMIN_KEY: "short" }, "OPTGRAPH_ADMIN_KEY"],
    [{ OPTGRAPH_ADMIN_KEY: "k".repeat(15) }, "OPTGRAPH_ADMIN_KEY"],
    [{ NODE_ENV: "staging" }, "NODE_ENV"],
    [{ OPTGRAPH_SEND_CACHE: "sometimes" }, "OPTGRAPH_SEND_CACHE"],
    [{ OPTGRAPH_SEND_CACHE_MAX_CONSENTS: "0" }, "OPTGRAPH_SEND_CACHE_MAX_CONSENTS"],
    [{ OPTGRAPH_SEND_CACHE_FRESHNESS_MS: "5" }, "OPTGRAPH_SEND_CACHE_FRESHNESS_MS"],
    [{ OPTGRAPH_DEFAULT_REGION: "USA" }, "OPTGRAPH_DEFAULT_REGION"],
    [{ OPTGRAPH_PENDING_TTL_HOURS: "0" }, "OPTGRAPH_PENDING_TTL_HOURS"],
    [{ OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS: "10" }, "OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS"],
    [{ OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS: "two" }, "OPTGRAPH_REVIEW_MARGIN_BUSINESS_DAYS"],
    [{ OPTGRAPH_PUBLIC_URL: "ftp://optgraph.example" }, "OPTGRAPH_PUBLIC_URL"],
    [{ REDIS_URL: "http://cache" }, "REDIS_URL"],
    [{ OPTGRAPH_EXPOSE_SCHEMA: "maybe" }, "OPTGRAPH_EXPOSE_SCHEMA"],
    [{ OPTGRAPH_SHUTDOWN_GRACE_MS: "600001" }, "OPTGRAPH_SHUTDOWN_GRACE_MS"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, "OTEL_EXPORTER_OTLP_ENDPOINT"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      "OTEL_EXPORTER_OTLP_PROTOCOL",
    ],
    [{ OTEL_TRACES_EXPORTER: "zipkin" }, "OTEL_TRACES_EXPORTER"],
    [{ OTEL_SDK_DISABLED: "perhaps" }, "OTEL_SDK_DISABLED"],
  ])("refuses %j naming %s", (env, variable) => {
    const error = configError(env);
    expect(error.name).toBe("ConfigError");
    expect(error.message.startsWith(`configuration: ${variable} `)).toBe(true);
    expect(error.message.split("\n")).toHaveLength(1);
  });

  it("never echoes a secret in its messages", () => {
    expect(configError({ DATABASE_URL: "mysql://admin:s3cret-pw@h/db" }).message).not.toContain(
      "s3cret-pw",
    );
    expect(configError({ DATABASE_URL: "postgres://admin:s3cret-pw@[bad" }).message).not.toContain(
      "s3cret-pw",
    );
    expect(configError({ OPTGRAPH_ADMIN_KEY: "tooshortkey" }).message).not.toContain("tooshortkey");
  });
});
