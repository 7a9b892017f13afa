// The admin view's way to optgraph: typed GraphQL documents over HTTP (POST /graphql with the API
// key as a Bearer token), and one graphql-ws connection for the live streams.
import { createClient, type Client } from "graphql-ws/client";
import type { TypedDocumentString } from "./generated/graphql.ts";

export const GRAPHQL_PATH = "/graphql";

/** A request optgraph refused, with its stable `extensions.code` when it gave one. */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Runs a query or mutation; resolves to its data or rejects with the first error. */
export async function request<TResult, TVariables>(
  apiKey: string,
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: VariablesOf<TVariables>
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
        authorization: `Bearer ${apiKey}`,
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new GraphQLRequestError("optgraph could not be reached.", undefined);
  }
  let body: GraphQLBody<TResult>;
  try {
    body = (await response.json()) as GraphQLBody<TResult>;
  } catch {
    throw new GraphQLRequestError(`optgraph answered HTTP ${response.status}.`, undefined);
  }
  const [error] = body.errors ?? [];
  if (error) throw new GraphQLRequestError(error.message, error.extensions?.code);
  if (!body.data) throw new GraphQLRequestError("optgraph answered without data.", undefined);
  return body.data;
}

type VariablesOf<TVariables> = TVariables extends Record<string, never> ? [] : [TVariables];

/** `request` bound to the signed-in key: what the views are given. */
export type Requester = <TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...variables: VariablesOf<TVariables>
) => Promise<TResult>;

export const requester =
  (apiKey: string): Requester =>
  (document, ...variables) =>
    request(apiKey, document, ...variables);

export type ConnectionState = "connecting" | "live" | "reconnecting" | "stopped";

/**
 * One WebSocket for every live stream of a signed-in session. It does not retry by itself: a
 * stream that loses it resubscribes with the cursor of the last event it saw (see live.ts), which
 * graphql-ws's own retry, resending the first payload, would not do.
 */
export function connectLive(
  apiKey: string,
  onState: (state: Exclude<ConnectionState, "stopped">) => void,
): Client {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return createClient({
    url: `${scheme}://${location.host}${GRAPHQL_PATH}`,
    connectionParams: { authorization: `Bearer ${apiKey}` },
    retryAttempts: 0,
    on: {
      connecting: () => onState("connecting"),
      connected: () => onState("live"),
      closed: () => onState("reconnecting"),
    },
  });
}
