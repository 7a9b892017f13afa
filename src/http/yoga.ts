// The GraphQL pipeline (Yoga + Envelop): authentication, error masking and the schema. Every
// transport (HTTP, SSE, WebSocket) goes through this one instance.
import { randomUUID } from "node:crypto";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import type { IncomingMessage } from "node:http";
import type { Actor } from "../domain/api-key.ts";
import { DomainError } from "../domain/errors.ts";
import type { Runtime } from "../services/runtime.ts";
import type { Context } from "../schema/context.ts";
import { schema } from "../schema/index.ts";
import { authorizationOf, clientAddress, corsPolicy, type Edge } from "./edge.ts";
import { createMaskError, useStableValidationCodes } from "./errors.ts";
import { useSharedEventExecution } from "./shared-execution.ts";
import { useLiveConnections, type LiveConnections } from "./live-connections.ts";
import {
  armorPlugins,
  DOCUMENT_ID_PARAM,
  persistedOperationsPlugins,
  rateLimitPlugin,
} from "./protections.ts";

export interface ServerContext {
  /** the Node request, present on HTTP requests and WebSocket operations */
  req?: IncomingMessage;
  /** graphql-ws connection parameters, present on WebSocket operations */
  connectionParams?: Record<string, unknown>;
  /** the client's WebSocket, present on WebSocket operations */
  socket?: { close(code?: number, reason?: string): void };
  /** who opened the WebSocket, present on WebSocket operations (authenticated at connection_init) */
  actor?: Actor;
  /** the graphql-ws id of the operation, present on WebSocket operations */
  subscriptionId?: string;
}

/** The close code and reason a WebSocket gets when one of its subscriptions overflows. */
export const SLOW_CONSUMER_CLOSE = {
  code: 1008,
  reason: "Slow consumer: a subscription buffer overflowed; resubscribe with after",
};

export type OptgraphYoga = YogaServerInstance<ServerContext, Context>;

export interface YogaDeps {
  logError: (error: unknown) => void;
  edge: Edge;
  live: LiveConnections;
  metricsPlugin: Plugin;
  tracingPlugins: Plugin[];
}

/**
 * Authenticates an HTTP request before its parameters are read: without a valid key nothing is
 * parsed or validated, so an anonymous client learns nothing about the schema.
 */
function useEdgeAuthentication(edge: Edge, actors: WeakMap<Request, Actor>): Plugin<ServerContext> {
  return {
    onRequestParse: async ({ request, serverContext }) => {
      const actor = await edge.authenticate(
        authorizationOf(request, undefined),
        clientAddress((serverContext as ServerContext).req),
      );
      actors.set(request, actor);
    },
  };
}

export function buildYoga(runtime: Runtime, deps: YogaDeps): OptgraphYoga {
  const { logError, edge } = deps;
  const actors = new WeakMap<Request, Actor>();
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    // the body is read once, within OPTGRAPH_BODY_BYTES, before Yoga sees it (src/http/server.ts);
    // Yoga's own limit would stream it a second time through a TransformStream per request
    maxRequestBodySize: false,
    // GraphQL Code Generator's persisted documents send their id beside the query, not in it
    extraParamNames: edge.persistedOperations ? [DOCUMENT_ID_PARAM] : [],
    cors: corsPolicy(runtime.config) as never,
    // GraphiQL is served from the package's own build (src/http/graphiql.ts), not Yoga's CDN page
    graphiql: false,
    maskedErrors: { maskError: createMaskError(logError, !runtime.config.exposeSchema) },
    plugins: [
      ...deps.tracingPlugins,
      useEdgeAuthentication(edge, actors),
      ...armorPlugins(runtime.config),
      ...(edge.persistedOperations
        ? persistedOperationsPlugins(edge.persistedOperations, (request) => {
            const actor = actors.get(request);
            return actor !== undefined && edge.mayRunAdHoc(actor);
          })
        : []),
      useStableValidationCodes(!runtime.config.exposeSchema),
      rateLimitPlugin(edge.rateLimits) as Plugin,
      deps.metricsPlugin,
      useSharedEventExecution(),
      useLiveConnections(deps.live) as Plugin,
    ],
    logging: false,
    context: ({ request, socket, actor }): Context => {
      // authenticated already: an HTTP request before it was parsed, a WebSocket at connection_init
      const caller = actor ?? (request && actors.get(request));
      if (!caller) throw new DomainError("UNAUTHENTICATED", "An API key is required.");
      return {
        actor: caller,
        runtime,
        requestId: request?.headers.get("x-request-id") ?? randomUUID(),
        onSlowConsumer: () => socket?.close(SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason),
      };
    },
  });
}
