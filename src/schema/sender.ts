// Senders over GraphQL.
import { createSender } from "../services/senders.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { SenderKindEnum } from "./enums.ts";
import { checkedPage } from "./cursors.ts";
import { asRowId } from "./ids.ts";

export const Sender = builder.prismaNode("Sender", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.sender(ctx.actor)] }),
  authScopes: (row, ctx) => sees.sender(ctx.actor, row),
  fields: (t) => ({
    address: t.exposeString("address", { description: "E.164, or the digits of a short code." }),
    kind: t.expose("kind", { type: SenderKindEnum }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const CreateSenderInput = builder.inputType("CreateSenderInput", {
  fields: (t) => ({
    address: t.string({ required: true }),
    kind: t.field({ type: SenderKindEnum, required: true }),
  }),
});

const CreateSenderPayload = builder.simpleObject("CreateSenderPayload", {
  fields: (t) => ({ sender: t.field({ type: Sender }) }),
});

builder.mutationField("createSender", (t) =>
  t.field({
    type: CreateSenderPayload,
    authScopes: { configure: true },
    args: { input: t.arg({ type: CreateSenderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      sender: await createSender(
        ctx.runtime.prisma,
        ctx.actor,
        input,
        ctx.runtime.config.defaultRegion,
      ),
    }),
  }),
);

builder.queryField("senders", (t) =>
  t.prismaConnection(
    {
      type: "Sender",
      cursor: "id",
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.sender.findMany({
          ...checkedPage(query, args),
          where: visible.sender(ctx.actor),
        }),
    },
    { name: "SenderConnection" },
    { name: "SenderEdge" },
  ),
);
