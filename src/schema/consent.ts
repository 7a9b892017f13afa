// Consent: the current state of one subscriber for one campaign, and the consents query.
import { visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { ConsentMethodEnum, ConsentStatusEnum } from "./enums.ts";
import { asRowId, rowIdOrNull } from "./ids.ts";

export const Consent = builder.prismaNode("Consent", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.consent(ctx.actor)] }),
  fields: (t) => ({
    subscriber: t.relation("subscriber"),
    campaign: t.relation("campaign"),
    status: t.expose("status", { type: ConsentStatusEnum }),
    method: t.expose("method", { type: ConsentMethodEnum }),
    expiresAt: t.expose("expiresAt", {
      type: "DateTime",
      nullable: true,
      description: "When a PENDING consent expires unless confirmed.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

export const ConsentConnection = builder.connectionObject(
  { type: Consent, name: "ConsentConnection" },
  { name: "ConsentEdge" },
);

builder.queryField("consents", (t) =>
  t.prismaConnection(
    {
      type: "Consent",
      cursor: "id",
      args: {
        campaignId: t.arg.id(),
        subscriberId: t.arg.id(),
        status: t.arg({ type: ConsentStatusEnum }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.consent.findMany({
          ...query,
          where: {
            AND: [
              visible.consent(ctx.actor),
              args.campaignId
                ? { campaignId: rowIdOrNull("Campaign", String(args.campaignId)) ?? asRowId("") }
                : {},
              args.subscriberId
                ? {
                    subscriberId:
                      rowIdOrNull("Subscriber", String(args.subscriberId)) ?? asRowId(""),
                  }
                : {},
              args.status ? { status: args.status } : {},
            ],
          },
        }),
    },
    ConsentConnection,
  ),
);
