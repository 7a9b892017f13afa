// The GraphQL pipeline (Yoga + Envelop): authentication, error masking and the schema. Every
// transport (HTTP, SSE, WebSocket) goes through this one instance.
import { randomUUID } from "node:crypto";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { secretFromAuthorization } from "../domain/api-key.ts";
import { authenticate } from "../services/api-keys.ts";
import type { Runtime } from "../services/runtime.ts";
import type { Context } from "../schema/context.ts";
import { schema } from "../schema/index.ts";
import { createMaskError, unauthenticated, useStableValidationCodes } from "./errors.ts";

export interface ServerContext {
  /** graphql-ws connection parameters, present on WebSocket operations */
  connectionParams?: Record<string, unknown>;
}

export type OptgraphYoga = YogaServerInstance<ServerContext, Context>;

function authorizationOf(request: Request, connectionParams: Record<string, unknown> | undefined) {
  const fromParams = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof fromParams === "string") return fromParams;
  return request.headers.get("authorization");
}

export function buildYoga(runtime: Runtime, logError: (error: unknown) => void): OptgraphYoga {
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
    plugins: [useStableValidationCodes()],
    logging: false,
    context: async ({ request, connectionParams }): Promise<Context> => {
      const secret = secretFromAuthorization(authorizationOf(request, connectionParams));
      if (!secret) {
        throw unauthenticated("An API key is required: send `Authorization: Bearer <key>`.");
      }
      const actor = await authenticate(runtime.prisma, secret);
      if (!actor) throw unauthenticated("The API key is unknown or revoked.");
      return {
        actor,
        runtime,
        requestId: request.headers.get("x-request-id") ?? randomUUID(),
      };
    },
  });
}
