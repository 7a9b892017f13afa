// Inbound messages over GraphQL: KeywordEvent and the keywordEvents query.
import { encodeCursor } from "../events/cursor.ts";
import { visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { KeywordIntentEnum } from "./enums.ts";
import { asRowId } from "./ids.ts";

export const KeywordEvent = builder.prismaNode("KeywordEvent", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.keywordEvent(ctx.actor)] }),
  fields: (t) => ({
    cursor: t.string({
      description: "Pass as `after` to keywordEventReceived to resume right behind this message.",
      select: { sequence: true },
      resolve: (event) => encodeCursor("keyword", event.sequence),
    }),
    sequence: t.exposeInt("sequence"),
    from: t.exposeString("from"),
    to: t.exposeString("to"),
    body: t.exposeString("body"),
    providerMessageId: t.exposeString("providerMessageId", { nullable: true }),
    keyword: t.exposeString("keyword", { nullable: true }),
    intent: t.expose("intent", { type: KeywordIntentEnum }),
    needsReview: t.exposeBoolean("needsReview"),
    reviewedAt: t.expose("reviewedAt", { type: "DateTime", nullable: true }),
    reply: t.exposeString("reply", { nullable: true }),
    repliedAt: t.expose("repliedAt", { type: "DateTime", nullable: true }),
    receivedAt: t.expose("receivedAt", { type: "DateTime" }),
    consentEvents: t.relation("consentEvents", { query: { orderBy: { sequence: "asc" } } }),
  }),
});

builder.queryField("keywordEvents", (t) =>
  t.prismaConnection(
    {
      type: "KeywordEvent",
      cursor: "organizationId_sequence",
      args: { intent: t.arg({ type: KeywordIntentEnum }), needsReview: t.arg.boolean() },
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.keywordEvent.findMany({
          ...query,
          where: {
            AND: [
              visible.keywordEvent(ctx.actor),
              args.intent ? { intent: args.intent } : {},
              args.needsReview != null ? { needsReview: args.needsReview } : {},
            ],
          },
        }),
    },
    { name: "KeywordEventConnection" },
    { name: "KeywordEventEdge" },
  ),
);
