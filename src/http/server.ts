// The HTTP server: Yoga on /graphql (GET, POST, SSE), graphql-ws on the same path
// (src/http/websocket.ts), exports, the Twilio webhook, health endpoints, and a graceful shutdown
// that lets in-flight work finish.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Plugin } from "graphql-yoga";
import type { Logger } from "pino";
import type { Database } from "../db/client.ts";
import type { Runtime } from "../services/runtime.ts";
import { buildYoga, type OptgraphYoga } from "./yoga.ts";
import { readBody, refuseTooLarge, requestIdOf, type Edge } from "./edge.ts";
import { LiveConnections } from "./live-connections.ts";
import { serveWebSockets } from "./websocket.ts";
import { ADMIN_PATH, serveAdmin } from "./admin.ts";
import { isGraphiQLAsset, serveGraphiQL, wantsGraphiQL } from "./graphiql.ts";
import { serveHealth, serveReadiness } from "./health.ts";
import type { Metrics } from "./metrics.ts";
import { handleTwilioSms, TWILIO_SMS_PATH } from "./twilio-webhook.ts";
import { handleExport } from "./exports.ts";
import { PUBLISHED_SCHEMA_PATH, publishedSchema } from "./published-schema.ts";
import { schema } from "../schema/index.ts";

export interface OptgraphServer {
  readonly url: string;
  readonly port: number;
  readonly yoga: OptgraphYoga;
  /** stop accepting, let in-flight requests finish (up to the grace period), close sockets */
  close(): Promise<void>;
}

export interface ServerOptions {
  host: string;
  port: number;
  shutdownGraceMs: number;
  logger: Logger;
  logError: (error: unknown) => void;
  metrics: Metrics;
  /** OpenTelemetry's operation spans, when tracing is on */
  tracingPlugins: Plugin[];
  edge: Edge;
}

/** the content types of a JSON GraphQL request */
const JSON_TYPES = ["application/json", "application/graphql+json"];

const ROUTES = new Set([
  "/graphql",
  "/healthz",
  "/readyz",
  "/metrics",
  PUBLISHED_SCHEMA_PATH,
  TWILIO_SMS_PATH,
]);

export async function startServer(
  runtime: Runtime,
  db: Database,
  options: ServerOptions,
): Promise<OptgraphServer> {
  const { edge } = options;
  const live = new LiveConnections(
    runtime.prisma,
    runtime.config.maxConnectionsPerKey,
    options.logError,
  );
  const yoga = buildYoga(runtime, {
    logError: options.logError,
    edge,
    live,
    metricsPlugin: options.metrics.plugin,
    tracingPlugins: options.tracingPlugins,
  });
  const { limits } = runtime.config;
  const serveSchema = publishedSchema(schema);

  /** responses not yet finished, so a shutdown can ask each connection to close after its own */
  const inFlight = new Set<ServerResponse>();
  let shuttingDown = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.on("close", () => {
      inFlight.delete(res);
      // its connection is idle now: close it rather than wait for a next request
      if (shuttingDown) setImmediate(() => server.closeIdleConnections());
    });
    if (shuttingDown) res.setHeader("connection", "close");
    const path = (req.url ?? "/").split("?")[0];
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers["x-request-id"]);
    req.headers["x-request-id"] = requestId;
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = ROUTES.has(path)
        ? path
        : path.startsWith("/admin")
          ? "/admin"
          : path.startsWith("/exports")
            ? "/exports"
            : path.startsWith("/graphiql/")
              ? "/graphiql"
              : "other";
      options.metrics.observeRequest(route, req.method ?? "GET", res.statusCode, seconds);
      options.logger.info({
        requestId,
        method: req.method,
        route,
        status: res.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
      });
    });
    if (path === "/metrics") return void options.metrics.serve(req, res);
    if (path === "/healthz") return serveHealth(res);
    if (path === "/readyz") return void serveReadiness(res, db);
    if (path === PUBLISHED_SCHEMA_PATH) return serveSchema(req, res);
    if (path === TWILIO_SMS_PATH) {
      handleTwilioSms(req, res, runtime, options.logError).catch((error) => {
        options.logError(error);
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    if (path.startsWith("/exports/")) {
      return void handleExport(req, res, runtime, edge, options.logError);
    }
    if (path === ADMIN_PATH || path.startsWith(`${ADMIN_PATH}/`)) {
      return void serveAdmin(req, res, path, options.logError);
    }
    if (
      runtime.config.exposeSchema &&
      (isGraphiQLAsset(path) || wantsGraphiQL(req, path, yoga.graphqlEndpoint))
    ) {
      return void serveGraphiQL(req, res, path, options.logError);
    }
    if (path === "/") {
      res.writeHead(302, { location: yoga.graphqlEndpoint }).end();
      return;
    }
    if (path === yoga.graphqlEndpoint && req.method !== "GET" && req.method !== "HEAD") {
      void serveGraphQLWithBody(req, res).catch((error) => {
        // a client that went away in the middle of its body is not an error of ours
        if (req.destroyed) return void res.destroy();
        options.logError(error);
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    return yoga(req, res);
  });

  /** Yoga gets the body once it is read whole and within the limit (a chunked one included). */
  async function serveGraphQLWithBody(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req, limits.bodyBytes);
    if (body === null) {
      const error = {
        message: "The request body is too large.",
        extensions: { code: "BAD_USER_INPUT" },
      };
      return refuseTooLarge(req, res, JSON.stringify({ errors: [error] }), "application/json");
    }
    // whatwg-node takes an already read body from `req.body` (as behind body-parsing frameworks)
    if (body.length > 0) (req as IncomingMessage & { body?: unknown }).body = readyBody(req, body);
    await yoga(req, res);
  }

  /**
   * The body as whatwg-node takes it best: a JSON body parsed once, so Yoga's JSON parser gets the
   * object (no body stream per request, and no walk over a Buffer's every index); anything else,
   * malformed JSON included, as its bytes, for Yoga's own parsers and errors.
   */
  function readyBody(req: IncomingMessage, body: Buffer): unknown {
    // the content types Yoga's JSON parser takes, matched as it matches them
    const type = (req.headers["content-type"] ?? "").split(",")[0];
    if (!JSON_TYPES.some((t) => type === t || type.startsWith(`${t};`))) return body;
    try {
      const parsed: unknown = JSON.parse(body.toString("utf8"));
      if (parsed !== null && typeof parsed === "object" && Object.keys(parsed).length > 0) {
        return parsed;
      }
    } catch {
      // Yoga answers malformed JSON itself
    }
    return body;
  }

  // A client reuses an idle keep-alive connection until its own timeout (undici: 4 s); a server
  // that closes it first races the client's next request on it (ECONNRESET). So the server waits
  // longer than any client, and headers may take a little longer still.
  server.keepAliveTimeout = runtime.config.keepAliveTimeoutMs;
  server.headersTimeout = runtime.config.keepAliveTimeoutMs + 5000;
  server.requestTimeout = Math.max(server.requestTimeout, server.headersTimeout + 1000);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // attached once listening: a WebSocket server re-emits the HTTP server's errors, so a port in use
  // would be reported twice (once by graphql-ws, as a stack)
  const webSockets = serveWebSockets(server, {
    runtime,
    yoga,
    edge,
    live,
    logError: options.logError,
  });
  const { port } = server.address() as AddressInfo;
  const shownHost =
    options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;

  // Shutdown: stop accepting; requests in flight finish and their connections close after them
  // (idle ones at once); SSE streams end with a retryable error and WebSockets close with 1001
  // once their queries and mutations have answered, so clients resume with `after`; whatever is
  // still open after the grace period is closed.
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      const deadline = Date.now() + options.shutdownGraceMs;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
      server.closeIdleConnections();
      live.close();
      const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs);
      await webSockets.close(deadline);
      await stopped;
      clearTimeout(grace);
      await yoga.dispose();
    })());

  return { url: `http://${shownHost}:${port}${yoga.graphqlEndpoint}`, port, yoga, close };
}
