// Limits that run before any resolver, and the gates around them: query depth, aliases,
// directives, tokens, cost and size (graphql-armor), introspection and field suggestions off when
// the schema is not exposed, CSRF prevention, persisted-only operations for PARTNER keys, and a
// per-key rate limit that counts root fields (aliases included).
import { readFileSync } from "node:fs";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import {
  Kind,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type GraphQLError,
  type SelectionSetNode,
} from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";
import type { Redis } from "ioredis";
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { Config } from "../config.ts";
import type { Role } from "../domain/api-key.ts";
import type { Context } from "../schema/context.ts";
import { rateLimited, type RateLimits } from "./edge.ts";
import { graphQLErrorOf } from "./errors.ts";

export const CSRF_HEADER = "x-graphql-yoga-csrf";

/** The character limit of a query, the same over HTTP and WebSocket. */
export function queryTooLong(config: Config, query: unknown): GraphQLError | null {
  const { characters } = config.limits;
  if (typeof query !== "string" || query.length <= characters) return null;
  return createGraphQLError(
    config.env !== "production"
      ? `The query is longer than ${characters} characters.`
      : "The query is too long.",
    { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } },
  );
}

/**
 * Introspection refused by validation on every transport (Yoga's plugin marks HTTP requests
 * only, so a WebSocket could still introspect).
 */
function useNoIntrospection(): Plugin {
  return {
    onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule),
  };
}

export function armorPlugins(config: Config): Plugin[] {
  const expose = config.env !== "production";
  const { limits } = config;
  return [
    EnvelopArmorPlugin({
      maxDepth: {
        n: limits.depth,
        ignoreIntrospection: true,
        exposeLimits: expose,
        flattenFragments: true,
      },
      maxAliases: { n: limits.aliases, exposeLimits: expose },
      maxDirectives: { n: limits.directives, exposeLimits: expose },
      maxTokens: { n: limits.tokens, exposeLimits: expose },
      costLimit: { maxCost: limits.cost, ignoreIntrospection: true, exposeLimits: expose },
      blockFieldSuggestion: { enabled: !config.exposeSchema },
    }) as Plugin,
    {
      onParams: ({ params }) => {
        const tooLong = queryTooLong(config, params.query);
        if (tooLong) throw tooLong;
      },
    },
    ...(config.exposeSchema ? [] : [useNoIntrospection()]),
    useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }) as Plugin,
  ];
}

/** The manifest of persisted operations: {id: document}, as GraphQL Code Generator writes it. */
export function loadPersistedOperations(file: string): Map<string, string> {
  const manifest = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  return new Map(Object.entries(manifest));
}

/** The request parameter GraphQL Code Generator's persisted documents send the id in. */
export const DOCUMENT_ID_PARAM = "documentId";

/**
 * The id of a registered operation in a request: GraphQL Code Generator's `documentId` (its
 * persisted-documents.json key, `sha256:<hex>`), else Apollo's `extensions.persistedQuery.sha256Hash`.
 */
export function persistedOperationIdOf(params: {
  extensions?: Record<string, unknown>;
  [DOCUMENT_ID_PARAM]?: unknown;
}): string | null {
  const documentId = params[DOCUMENT_ID_PARAM];
  if (typeof documentId === "string") return documentId;
  const persisted = params.extensions?.persistedQuery as
    { version?: unknown; sha256Hash?: unknown } | undefined;
  return persisted?.version === 1 && typeof persisted.sha256Hash === "string"
    ? persisted.sha256Hash
    : null;
}

/**
 * With a manifest, PARTNER keys may run only registered operations (by id, or by sending a
 * registered document as it is); every other role keeps ad-hoc queries (the rule: Edge.mayRunAdHoc).
 */
export function persistedOperationsPlugins(
  manifest: Map<string, string>,
  mayRunAdHoc: (request: Request) => boolean,
): Plugin[] {
  const idOfDocument = new Map([...manifest].map(([id, document]) => [document, id]));
  return [
    {
      // A registered document sent as text runs as its id, so it counts as persisted.
      onParams: ({ params, setParams }) => {
        const id = typeof params.query === "string" ? idOfDocument.get(params.query) : undefined;
        if (id) {
          setParams({
            ...params,
            query: undefined,
            extensions: { ...params.extensions, persistedQuery: { version: 1, sha256Hash: id } },
          });
        }
      },
    },
    usePersistedOperations({
      extractPersistedOperationId: (params) => persistedOperationIdOf(params as never),
      // one registry for both: Apollo sends the bare hex of codegen's `sha256:<hex>` keys
      getPersistedOperation: (id) =>
        manifest.get(id) ??
        manifest.get(id.startsWith("sha256:") ? id.slice("sha256:".length) : `sha256:${id}`) ??
        null,
      allowArbitraryOperations: mayRunAdHoc,
      customErrors: {
        notFound: {
          message: "PersistedQueryNotFound",
          extensions: { code: "NOT_FOUND", http: { status: 404 } },
        },
        persistedQueryOnly: {
          message: "PARTNER keys may run only registered operations.",
          extensions: { code: "FORBIDDEN", http: { status: 403 } },
        },
        keyNotFound: {
          message: "PersistedQueryKeyNotFound",
          extensions: { code: "BAD_USER_INPUT", http: { status: 400 } },
        },
      },
    }) as Plugin,
  ];
}

/** Root fields of the executed operation, aliases and fragments at the root included. */
export function rootFieldCount(document: DocumentNode, operationName?: string | null): number {
  const fragments = new Map(
    document.definitions.flatMap((d) =>
      d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
    ),
  );
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations[0];
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return 1;
  const count = (set: SelectionSetNode, seen: Set<string>): number =>
    set.selections.reduce((total, selection) => {
      if (selection.kind === Kind.FIELD)
        return total + (selection.name.value.startsWith("__") ? 0 : 1);
      if (selection.kind === Kind.INLINE_FRAGMENT)
        return total + count(selection.selectionSet, seen);
      const fragment = fragments.get(selection.name.value);
      if (!fragment || seen.has(selection.name.value)) return total;
      return total + count(fragment.selectionSet, new Set([...seen, selection.name.value]));
    }, 0);
  return Math.max(1, count(operation.selectionSet, new Set()));
}

export function createRateLimits(config: Config, redis: Redis | null): RateLimits {
  const limiters = new Map<Role, RateLimiterAbstract>();
  for (const [role, perSecond] of Object.entries(config.rateLimits) as [Role, number][]) {
    if (perSecond <= 0) continue;
    const options = { points: perSecond, duration: 1, keyPrefix: `optgraph_rate_${role}` };
    limiters.set(
      role,
      redis
        ? new RateLimiterRedis({
            ...options,
            storeClient: redis,
            insuranceLimiter: new RateLimiterMemory(options),
          })
        : new RateLimiterMemory(options),
    );
  }
  return {
    async consume(actor, operations) {
      const limiter = limiters.get(actor.role);
      if (!limiter) return;
      try {
        await limiter.consume(actor.apiKeyId, operations);
      } catch (rejection) {
        if (rejection instanceof Error) throw rejection;
        const retryAfterMs = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 1000;
        throw rateLimited(
          `Rate limit of ${config.rateLimits[actor.role]} operations per second for ${actor.role} keys exceeded; retry in ${retryAfterMs} ms.`,
          retryAfterMs,
        );
      }
    },
  };
}

/** Counts every operation against its key's rate limit before it executes or subscribes. */
export function rateLimitPlugin(limits: RateLimits): Plugin<Context> {
  const check = async (args: {
    document: DocumentNode;
    operationName?: string | null;
    contextValue: Context;
  }) => {
    await limits.consume(
      args.contextValue.actor,
      rootFieldCount(args.document, args.operationName),
    );
  };
  return {
    onExecute: async ({ args, setResultAndStopExecution }) => {
      try {
        await check(args);
      } catch (error) {
        setResultAndStopExecution({ errors: [graphQLErrorOf(error)] });
      }
    },
    onSubscribe: async ({ args, setResultAndStopExecution }) => {
      try {
        await check(args);
      } catch (error) {
        setResultAndStopExecution({ errors: [graphQLErrorOf(error)] });
      }
    },
  };
}
