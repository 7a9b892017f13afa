// Subscribers over GraphQL: lookup by id or phone, lists filtered by campaign and consent status,
// and each subscriber's consents and ledger history.
import { normalizePhone } from "../domain/phone.ts";
import { badInput } from "../domain/errors.ts";
import { subscriberEvidence } from "../services/evidence.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { ConsentEventConnection } from "./consent-event.ts";
import { checkedPage, checkPageArgs } from "./cursors.ts";
import { ConsentStatusEnum } from "./enums.ts";
import { asRowId, filterId, rowIdOrNull } from "./ids.ts";

export const Subscriber = builder.prismaNode("Subscriber", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.subscriber(ctx.actor)] }),
  authScopes: (row, ctx) => sees.subscriber(ctx.actor, row),
  fields: (t) => ({
    phone: t.exposeString("phone", { description: "E.164." }),
    timezone: t.exposeString("timezone", { nullable: true }),
    locale: t.exposeString("locale", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    consents: t.relation("consents", {
      query: (_args, ctx) => ({
        where: visible.consent(ctx.actor),
        orderBy: { id: "asc" },
      }),
    }),
    history: t.relatedConnection(
      "consentEvents",
      {
        cursor: "organizationId_sequence",
        query: (args, ctx) => {
          checkPageArgs(args, "organizationId_sequence");
          return { where: visible.consentEvent(ctx.actor), orderBy: { sequence: "asc" } };
        },
      },
      ConsentEventConnection,
    ),
  }),
});

builder.queryFields((t) => ({
  subscriber: t.prismaField({
    type: "Subscriber",
    nullable: true,
    description: "A subscriber by id or by phone number (any common format).",
    args: { id: t.arg.id(), phone: t.arg.string() },
    resolve: (query, _root, args, ctx) => {
      if ((args.id == null) === (args.phone == null)) {
        throw badInput("id", "give exactly one of id and phone");
      }
      if (args.phone != null) {
        const phone = normalizePhone(args.phone, ctx.runtime.config.defaultRegion);
        return ctx.runtime.prisma.subscriber.findFirst({
          ...query,
          where: { AND: [{ phone }, visible.subscriber(ctx.actor)] },
        });
      }
      const id = rowIdOrNull("Subscriber", String(args.id));
      if (!id) return null;
      return ctx.runtime.prisma.subscriber.findFirst({
        ...query,
        where: { AND: [{ id }, visible.subscriber(ctx.actor)] },
      });
    },
  }),
  subscribers: t.prismaConnection(
    {
      type: "Subscriber",
      cursor: "id",
      args: { campaignId: t.arg.id(), status: t.arg({ type: ConsentStatusEnum }) },
      resolve: (query, _root, args, ctx) => {
        const campaignId = filterId("Campaign", args.campaignId);
        const consentFilter =
          campaignId || args.status
            ? {
                consents: {
                  some: {
                    ...(campaignId ? { campaignId } : {}),
                    ...(args.status ? { status: args.status } : {}),
                  },
                },
              }
            : {};
        return ctx.runtime.prisma.subscriber.findMany({
          ...checkedPage(query, args),
          where: { AND: [visible.subscriber(ctx.actor), consentFilter] },
        });
      },
    },
    { name: "SubscriberConnection" },
    { name: "SubscriberEdge" },
  ),
}));

builder.queryField("subscriberEvidence", (t) =>
  t.field({
    type: "JSON",
    nullable: true,
    description:
      "The subscriber's complete evidence file (by id or phone): the subscriber, its consents, every ledger event with its hash and prevHash, the inbound messages, and the text of every disclosure version they refer to. Also GET /exports/subscribers/<id>/evidence.json.",
    args: { id: t.arg.id(), phone: t.arg.string() },
    resolve: (_root, args, ctx) => {
      if ((args.id == null) === (args.phone == null)) {
        throw badInput("id", "give exactly one of id and phone");
      }
      if (args.phone != null) {
        return subscriberEvidence(ctx.runtime, ctx.actor, { phone: args.phone });
      }
      const id = rowIdOrNull("Subscriber", String(args.id));
      return id ? subscriberEvidence(ctx.runtime, ctx.actor, { id }) : null;
    },
  }),
);
