// The Pothos schema builder: configuration only. Types, queries and mutations live one file per
// domain type beside this one.
import SchemaBuilder from "@pothos/core";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin, { decodeGlobalID } from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import SimpleObjectsPlugin from "@pothos/plugin-simple-objects";
import { JSONResolver } from "graphql-scalars";
import { nodeEnvOrDefault } from "../config-definition.ts";
import { canConfigure, canManageKeys, canWriteConsent } from "../domain/api-key.ts";
import type PrismaTypes from "../generated/pothos-types.ts";
import { getDatamodel } from "../generated/pothos-types.ts";
import type { Context } from "./context.ts";
import { DateTimeScalar } from "./date-time.ts";

/** The types `node(id)` resolves; every other typename in an ID reads as unknown. */
const NODE_TYPES = new Set([
  "Organization",
  "ApiKey",
  "Sender",
  "Campaign",
  "Subscriber",
  "Consent",
  "ConsentEvent",
  "KeywordEvent",
  "ImportJob",
]);

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    /** a multipart upload (GraphQL multipart request spec); Yoga parses it */
    File: { Input: File; Output: never };
  };
  AuthScopes: {
    /** ADMIN keys: everything, including API keys */
    admin: boolean;
    /** ADMIN and OPERATOR keys: senders and campaigns */
    configure: boolean;
    /** every role but VIEWER: consent changes */
    writeConsent: boolean;
    /** the bootstrap key: creates organizations */
    platform: boolean;
  };
}>({
  plugins: [ScopeAuthPlugin, SimpleObjectsPlugin, RelayPlugin, PrismaPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      admin: canManageKeys(ctx.actor),
      configure: canConfigure(ctx.actor),
      writeConsent: canWriteConsent(ctx.actor),
      platform: ctx.actor.isPlatform,
    }),
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    nodesQueryOptions: false,
    // An ID that is not one of ours reads like an unknown one: null, without an error.
    decodeGlobalID: (globalID) => {
      try {
        return decodeGlobalID(globalID);
      } catch {
        return { typename: "", id: "" };
      }
    },
    nodeQueryOptions: {
      resolve: (_root, { id }, _ctx, _info, resolveNode) =>
        NODE_TYPES.has(id.typename) ? resolveNode(id) : null,
    },
  },
  prisma: {
    client: (ctx) => ctx.runtime.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: nodeEnvOrDefault(process.env) === "production" ? null : "error",
  },
});

builder.addScalarType("DateTime", DateTimeScalar);
builder.addScalarType("JSON", JSONResolver);
builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
