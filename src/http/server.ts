// The HTTP server: Yoga on /graphql (GET, POST, SSE), graphql-ws on the same path routed through
// Yoga's envelop, health endpoints, and a graceful shutdown that lets in-flight work finish.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Database } from "../db/client.ts";
import type { Runtime } from "../services/runtime.ts";
import { secretFromAuthorization } from "../domain/api-key.ts";
import { authenticate } from "../services/api-keys.ts";
import { authorizationOf, buildYoga, type OptgraphYoga } from "./yoga.ts";
import { serveHealth, serveReadiness } from "./health.ts";
import { handleTwilioSms, TWILIO_SMS_PATH } from "./twilio-webhook.ts";

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
  logError: (error: unknown) => void;
}

export async function startServer(
  runtime: Runtime,
  db: Database,
  options: ServerOptions,
): Promise<OptgraphServer> {
  const yoga = buildYoga(runtime, options.logError);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return serveHealth(res);
    if (path === "/readyz") return void serveReadiness(res, db);
    if (path === TWILIO_SMS_PATH) {
      handleTwilioSms(req, res, runtime, options.logError).catch((error) => {
        options.logError(error);
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    if (path === "/") {
      res.writeHead(302, { location: yoga.graphqlEndpoint }).end();
      return;
    }
    return yoga(req, res);
  });

  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const disposeWs = useServer(
    {
      connectionInitWaitTimeout: 3000,
      // A connection is accepted only with a valid key in connectionParams (else 4403 Forbidden).
      onConnect: async (ctx) => {
        const secret = secretFromAuthorization(authorizationOf(undefined, ctx.connectionParams));
        return secret ? (await authenticate(runtime.prisma, secret)) !== null : false;
      },
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams,
        });
        const args = {
          schema,
          operationName: payload.operationName,
          document: parse(payload.query),
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wsServer,
  );

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost =
    options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const socket of wsServer.clients) socket.close(1001, "Server shutting down");
      await disposeWs.dispose();
      const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs);
      await stopped;
      clearTimeout(grace);
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      await yoga.dispose();
    })());

  return { url: `http://${shownHost}:${port}${yoga.graphqlEndpoint}`, port, yoga, close };
}
