// graphql-ws on /graphql, through Yoga's envelop so every plugin applies. A connection is
// authenticated once, at connection_init, through the edge; it counts against its key's
// connection cap and is closed with 4403 when the key is revoked. One bad operation (a syntax
// error, a limit, a refused rule) is answered with an `error` message for that operation alone:
// the connection and its other subscriptions go on.
import type { IncomingMessage, Server } from "node:http";
import { GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type { SubscribePayload } from "graphql-ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Actor } from "../domain/api-key.ts";
import { DomainError } from "../domain/errors.ts";
import type { Runtime } from "../services/runtime.ts";
import { authorizationOf, clientAddress, type Edge } from "./edge.ts";
import { createMaskError } from "./errors.ts";
import { LiveConnections, REVOKED_CLOSE, TOO_MANY_CONNECTIONS_CLOSE } from "./live-connections.ts";
import { queryTooLong } from "./protections.ts";
import type { OptgraphYoga } from "./yoga.ts";

/** Browsers' WebSockets must come from an allowed origin; clients without an Origin are not browsers. */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (!origin) return true;
  if (allowed.includes("*") || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The close code and reason of every WebSocket when the server shuts down: reconnect with `after`. */
export const GOING_AWAY_CLOSE = { code: 1001, reason: "Server shutting down: resume with after" };
/** how long a connection must have sent nothing before shutdown closes it */
const QUIET_MS = 250;

/** What a WebSocket connection carries from connection_init on. */
type Connection = {
  socket: WebSocket;
  request: IncomingMessage;
  actor?: Actor;
  release?: () => void;
};

export interface WebSocketOptions {
  runtime: Runtime;
  yoga: OptgraphYoga;
  edge: Edge;
  live: LiveConnections;
  logError: (error: unknown) => void;
}

export function serveWebSockets(server: Server, options: WebSocketOptions) {
  const { runtime, yoga, edge, live } = options;
  const { config } = runtime;
  const publicError = createMaskError(options.logError, !config.exposeSchema);
  const refusal = (error: unknown) => [publicError(error, "Unexpected error.") as GraphQLError];

  const wsServer = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: config.limits.bodyBytes,
    verifyClient: (info: { origin: string; req: IncomingMessage }) =>
      originAllowed(info.origin, info.req.headers.host, config.allowedOrigins),
  });

  /** The operation's arguments, or the errors that answer it (never a thrown error: that is a 4500). */
  async function operation(
    ctx: { connectionParams?: Record<string, unknown>; subscriptions: object; extra: Connection },
    id: string,
    payload: SubscribePayload,
  ) {
    // the operation being subscribed is already counted
    if (Object.keys(ctx.subscriptions).length > config.maxSubscriptionsPerConnection) {
      throw new DomainError(
        "RATE_LIMITED",
        `A connection may hold ${config.maxSubscriptionsPerConnection} operations at once; complete one first.`,
      );
    }
    const tooLong = queryTooLong(config, payload.query);
    if (tooLong) throw tooLong;
    const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
      req: ctx.extra.request,
      socket: ctx.extra.socket,
      stream: ctx.extra.request.socket,
      params: payload,
      connectionParams: ctx.connectionParams,
      actor: ctx.extra.actor,
      // shared results are written to the socket as pre-built frames (src/http/frames.ts)
      subscriptionId: id,
    });
    const document = parse(payload.query);
    const errors = validate(schema, document);
    if (errors.length)
      return errors.map((error: GraphQLError) => publicError(error, error.message) as GraphQLError);
    const contextValue = await contextFactory();
    if (!edge.mayRunAdHoc(contextValue.actor, payload.query)) {
      throw new DomainError("FORBIDDEN", "PARTNER keys may run only registered operations.");
    }
    return {
      schema,
      operationName: payload.operationName,
      document,
      variableValues: payload.variables,
      contextValue,
      rootValue: { execute, subscribe },
    };
  }

  /** graphql-ws's state of each acknowledged connection: its operations by id */
  const operationsOf = new Map<WebSocket, { subscriptions: Record<string, unknown> }>();
  /** when each connection last sent a message (shutdown closes only connections gone quiet) */
  const lastHeardFrom = new WeakMap<WebSocket, number>();
  wsServer.on("connection", (socket, request) => {
    // bytes, not whole messages: a large operation arrives over many reads
    request.socket.on("data", () => lastHeardFrom.set(socket, Date.now()));
  });

  const disposable = useServer<Record<string, unknown>, Connection>(
    {
      connectionInitWaitTimeout: 3000,
      // A connection is accepted only with a valid key in connectionParams (else 4403 Forbidden),
      // and while its key holds fewer connections than the cap (else 4429); an address that
      // failed too often lately gets 4429 as well.
      onConnect: async (ctx) => {
        const { socket } = ctx.extra;
        try {
          ctx.extra.actor = await edge.authenticate(
            authorizationOf(undefined, ctx.connectionParams),
            clientAddress(ctx.extra.request),
          );
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          if (error.code === "RATE_LIMITED") socket.close(4429, error.message.slice(0, 120));
          return false;
        }
        const release = live.open(ctx.extra.actor.apiKeyId, () =>
          socket.close(REVOKED_CLOSE.code, REVOKED_CLOSE.reason),
        );
        if (!release) {
          socket.close(TOO_MANY_CONNECTIONS_CLOSE.code, TOO_MANY_CONNECTIONS_CLOSE.reason);
          return false;
        }
        ctx.extra.release = release;
        operationsOf.set(socket, ctx);
        return true;
      },
      onClose: (ctx) => {
        operationsOf.delete(ctx.extra.socket);
        ctx.extra.release?.();
      },
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onSubscribe: async (ctx, id, payload) => {
        try {
          return (await operation(ctx, id, payload)) as never;
        } catch (error) {
          return refusal(error);
        }
      },
    },
    wsServer,
  );

  /**
   * Whether a connection still runs a query or mutation (or a subscription being set up):
   * graphql-ws holds such an operation as `null` until it completes; a running subscription is
   * its iterator, which a close ends (the client resumes it with `after`).
   */
  const busy = (socket: WebSocket) =>
    Object.values(operationsOf.get(socket)?.subscriptions ?? {}).some((entry) => entry === null);

  /**
   * Whether a connection may still be sending: it spoke within the last QUIET_MS. An operation a
   * client sent just before the shutdown may still be on its way (in the socket's buffers, unread)
   * when the last answered one leaves; closing then would drop it unanswered.
   */
  const speaking = (socket: WebSocket) => Date.now() - (lastHeardFrom.get(socket) ?? 0) < QUIET_MS;

  return {
    /**
     * Shuts down: each connection is closed with 1001 once the queries and mutations it runs have
     * answered and it has gone quiet (what it sends meanwhile is still served, as HTTP keep-alive
     * requests are), and every one by `deadline` (ms since the epoch). A live subscription does
     * not hold a connection open: the close ends it and the client resumes it with `after`.
     */
    async close(deadline: number) {
      for (;;) {
        let open = 0;
        for (const socket of wsServer.clients) {
          if (socket.readyState !== socket.OPEN) continue;
          if ((busy(socket) || speaking(socket)) && Date.now() < deadline) open += 1;
          else socket.close(GOING_AWAY_CLOSE.code, GOING_AWAY_CLOSE.reason);
        }
        if (open === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
