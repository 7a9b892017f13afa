// API keys over GraphQL: ADMIN keys list, create (secret shown once) and revoke them; the platform
// key is never revoked, only replaced by itself.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { createApiKey, revokeApiKey, rotatePlatformKey } from "../services/api-keys.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { checkedPage } from "./cursors.ts";
import { RoleEnum } from "./enums.ts";
import { asRowId, rowIdOf } from "./ids.ts";

export const ApiKey = builder.prismaNode("ApiKey", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.apiKey(ctx.actor)] }),
  authScopes: (row, ctx) => sees.apiKey(ctx.actor, row),
  fields: (t) => ({
    name: t.exposeString("name"),
    role: t.expose("role", { type: RoleEnum }),
    secretPrefix: t.exposeString("secretPrefix", {
      description: "The first characters of the secret, to tell keys apart.",
    }),
    campaignIds: t.field({
      type: ["ID"],
      description: "PARTNER keys: the campaigns the key may touch.",
      select: { campaignIds: true },
      resolve: (key) => key.campaignIds.map((id) => encodeGlobalID("Campaign", id)),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
  }),
});

builder.queryField("apiKeys", (t) =>
  t.prismaConnection(
    {
      type: "ApiKey",
      cursor: "id",
      description:
        "The organization's API keys, revoked ones included, oldest first: to see which are used and rotate them. ADMIN keys only; never a secret or its hash.",
      authScopes: { admin: true },
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.apiKey.findMany({
          ...checkedPage(query, args),
          where: visible.apiKey(ctx.actor),
        }),
    },
    { name: "ApiKeyConnection" },
    { name: "ApiKeyEdge" },
  ),
);

const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
    campaignIds: t.idList({ required: false }),
  }),
});

const CreateApiKeyPayload = builder.simpleObject("CreateApiKeyPayload", {
  fields: (t) => ({
    apiKey: t.field({ type: ApiKey }),
    secret: t.string({ description: "The key's secret. Shown once, never stored." }),
  }),
});

builder.mutationField("createApiKey", (t) =>
  t.field({
    type: CreateApiKeyPayload,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createApiKey(ctx.runtime.prisma, ctx.actor, {
        name: input.name,
        role: input.role,
        campaignIds: input.campaignIds?.map((id) => rowIdOf("Campaign", String(id))),
      }),
  }),
);

const RevokeApiKeyInput = builder.inputType("RevokeApiKeyInput", {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const RevokeApiKeyPayload = builder.simpleObject("RevokeApiKeyPayload", {
  fields: (t) => ({ apiKey: t.field({ type: ApiKey }) }),
});

builder.mutationField("revokeApiKey", (t) =>
  t.field({
    type: RevokeApiKeyPayload,
    authScopes: { admin: true },
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      apiKey: await revokeApiKey(
        ctx.runtime.prisma,
        ctx.actor,
        rowIdOf("ApiKey", String(input.id)),
      ),
    }),
  }),
);

const RotatePlatformKeyPayload = builder.simpleObject("RotatePlatformKeyPayload", {
  fields: (t) => ({
    apiKey: t.field({ type: ApiKey }),
    secret: t.string({ description: "The new platform key's secret. Shown once, never stored." }),
  }),
});

builder.mutationField("rotatePlatformKey", (t) =>
  t.field({
    type: RotatePlatformKeyPayload,
    description:
      "Replaces the platform key: returns a new one and revokes the one calling, at once. Platform key only.",
    authScopes: { platform: true },
    resolve: (_root, _args, ctx) => rotatePlatformKey(ctx.runtime.prisma, ctx.actor),
  }),
);
