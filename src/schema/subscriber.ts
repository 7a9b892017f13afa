// Subscribers over GraphQL: lookup by id or phone, lists filtered by campaign and consent status,
// and each subscriber's consents and ledger history.
import { normalizePhone } from "../domain/phone.ts";
import { badInput } from "../domain/errors.ts";
import { subscriberEvidence } from "../services/evidence.ts";
import { updateSubscriber } from "../services/subscribers.ts";
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
    timezone: t.exposeString("timezone", {
      nullable: true,
      description: "IANA time zone: quiet hours are counted in it instead of the number's zones.",
    }),
    state: t.exposeString("state", {
      nullable: true,
      description:
        "Two-letter US state of residence: its send rules apply wherever the number is from.",
    }),
    locale: t.exposeString("locale", { nullable: true, description: "BCP 47 language tag." }),
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

const UpdateSubscriberInput = builder.inputType("UpdateSubscriberInput", {
  description:
    "Where a subscriber is. Give the subscriber by id or by phone; an absent field is left as it is, null clears it.",
  fields: (t) => ({
    id: t.id(),
    phone: t.string(),
    timeZone: t.string({ description: "IANA time zone, such as America/New_York." }),
    state: t.string({ description: "Two-letter US state of residence, such as CT." }),
    locale: t.string({ description: "BCP 47 language tag, such as es or en-US." }),
  }),
});

const UpdateSubscriberPayload = builder.simpleObject("UpdateSubscriberPayload", {
  fields: (t) => ({ subscriber: t.field({ type: Subscriber }) }),
});

builder.mutationField("updateSubscriber", (t) =>
  t.field({
    type: UpdateSubscriberPayload,
    description:
      "Sets or clears a subscriber's time zone, state of residence and locale (not a consent change: no ledger event). ADMIN, OPERATOR, and PARTNER keys for the subscribers they see.",
    args: { input: t.arg({ type: UpdateSubscriberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const clientId = input.id == null ? null : String(input.id);
      return {
        subscriber: await updateSubscriber(ctx.runtime, ctx.actor, {
          ...input,
          id: clientId === null ? null : rowIdOrNull("Subscriber", clientId),
          clientId,
        }),
      };
    },
  }),
);
