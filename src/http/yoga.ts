// The GraphQL pipeline (Yoga + Envelop): authentication, error masking and the schema. Every
// transport (HTTP, SSE, WebSocket) goes through this one instance.
import { randomUUID } from "node:crypto";
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { secretFromAuthorization } from "../domain/api-key.ts";
import { authenticate } from "../services/api-keys.ts";
import type { Runtime } from "../services/runtime.ts";
import type { Context } from "../schema/context.ts";
import { schema } from "../schema/index.ts";
import { createMaskError, unauthenticated, useStableValidationCodes } from "./errors.ts";
import { useSharedEventExecution } from "./shared-execution.ts";
import {
  armorPlugins,
  persistedOperationsPlugins,
  rateLimitPlugin,
  type RateLimits,
} from "./protections.ts";

export interface ServerContext {
  /** graphql-ws connection parameters, present on WebSocket operations */
  connectionParams?: Record<string, unknown>;
  /** the client's WebSocket, present on WebSocket operations */
  socket?: { close(code?: number, reason?: string): void };
}

/** The close code and reason a WebSocket gets when one of its subscriptions overflows. */
export const SLOW_CONSUMER_CLOSE = {
  code: 1008,
  reason: "Slow consumer: a subscription buffer overflowed; resubscribe with after",
};

export type OptgraphYoga = YogaServerInstance<ServerContext, Context>;

export function authorizationOf(
  request: Request | undefined,
  connectionParams: Record<string, unknown> | undefined,
) {
  const fromParams = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof fromParams === "string") return fromParams;
  return request?.headers.get("authorization") ?? null;
}

export interface YogaDeps {
  logError: (error: unknown) => void;
  rateLimits: RateLimits;
  persistedOperations: Map<string, string> | null;
  metricsPlugin: Plugin;
}

export function buildYoga(runtime: Runtime, deps: YogaDeps): OptgraphYoga {
  const { logError } = deps;
  const roleOf = async (secret: string) =>
    (await authenticate(runtime.prisma, secret))?.role ?? null;
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: runtime.config.exposeSchema
      ? {
          title: "optgraph",
          subscriptionsProtocol: "WS",
          headers: JSON.stringify({ Authorization: "Bearer <your API key>" }),
        }
      : false,
    maskedErrors: { maskError: createMaskError(logError) },
    plugins: [
      ...armorPlugins(runtime.config),
      ...(deps.persistedOperations
        ? persistedOperationsPlugins(deps.persistedOperations, roleOf)
        : []),
      useStableValidationCodes(),
      rateLimitPlugin(deps.rateLimits) as Plugin,
      deps.metricsPlugin,
      useSharedEventExecution(),
    ],
    logging: false,
    context: async ({ request, connectionParams, socket }): Promise<Context> => {
      const secret = secretFromAuthorization(authorizationOf(request, connectionParams));
      if (!secret) {
        throw unauthenticated("An API key is required: send `Authorization: Bearer <key>`.");
      }
      const actor = await authenticate(runtime.prisma, secret);
      if (!actor) throw unauthenticated("The API key is unknown or revoked.");
      return {
        actor,
        runtime,
        requestId: request?.headers.get("x-request-id") ?? randomUUID(),
        onSlowConsumer: () => socket?.close(SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason),
      };
    },
  });
}
