// The ledger over GraphQL: ConsentEvent and the consentEvents query, in sequence order.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { decodeCursor, encodeCursor } from "../events/cursor.ts";
import { consentStreamFilter } from "../services/streams.ts";
import { verifyLedger } from "../services/ledger.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { checkedPage } from "./cursors.ts";
import { ConsentMethodEnum, ConsentStatusEnum } from "./enums.ts";
import { asRowId, filterId, rowIdOf } from "./ids.ts";

export const ConsentEvent = builder.prismaNode("ConsentEvent", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.consentEvent(ctx.actor)] }),
  authScopes: (row, ctx) => sees.consentEvent(ctx.actor, row),
  fields: (t) => ({
    cursor: t.string({
      description: "Pass as `after` to consentChanged to resume right behind this event.",
      resolve: (event) => encodeCursor("consent", event.sequence),
    }),
    sequence: t.exposeInt("sequence", {
      description: "Gap-free, per organization, in commit order.",
    }),
    subscriber: t.relation("subscriber"),
    campaign: t.relation("campaign", { nullable: true }),
    consent: t.relation("consent", { nullable: true }),
    fromStatus: t.expose("fromStatus", { type: ConsentStatusEnum, nullable: true }),
    toStatus: t.expose("toStatus", { type: ConsentStatusEnum }),
    method: t.expose("method", { type: ConsentMethodEnum }),
    occurredAt: t.expose("occurredAt", { type: "DateTime" }),
    recordedAt: t.expose("recordedAt", { type: "DateTime" }),
    evidence: t.expose("evidence", { type: "JSON", nullable: true }),
    disclosures: t.relation("disclosureVersion", {
      nullable: true,
      description: "The disclosures the consent was given under.",
    }),
    prevHash: t.exposeString("prevHash"),
    hash: t.exposeString("hash", { description: "sha256(prevHash ‖ canonical event), hex." }),
  }),
});

export const ConsentEventConnection = builder.connectionObject(
  { type: ConsentEvent, name: "ConsentEventConnection" },
  { name: "ConsentEventEdge" },
);

builder.queryField("consentEvents", (t) =>
  t.prismaConnection(
    {
      type: "ConsentEvent",
      cursor: "organizationId_sequence",
      description: "The ledger, in sequence order.",
      args: { campaignId: t.arg.id(), subscriberId: t.arg.id() },
      resolve: (query, _root, args, ctx) =>
        ctx.runtime.prisma.consentEvent.findMany({
          ...checkedPage(query, args),
          // the cursor is (organizationId, sequence): pages follow the ledger's sequence
          orderBy: { sequence: "asc" },
          where: {
            AND: [
              visible.consentEvent(ctx.actor),
              args.campaignId != null ? { campaignId: filterId("Campaign", args.campaignId) } : {},
              args.subscriberId != null
                ? { subscriberId: filterId("Subscriber", args.subscriberId) }
                : {},
            ],
          },
        }),
    },
    ConsentEventConnection,
  ),
);

const LedgerVerification = builder.simpleObject("LedgerVerification", {
  fields: (t) => ({
    ok: t.boolean(),
    eventsChecked: t.int(),
    firstBrokenEventId: t.id({
      nullable: true,
      description: "The first event whose stored hash or link no longer matches its recomputation.",
    }),
  }),
});

builder.queryField("verifyLedger", (t) =>
  t.field({
    type: LedgerVerification,
    description:
      "Recomputes the organization's whole hash chain. For a PARTNER key, eventsChecked counts the checked events of its campaigns, and firstBrokenEventId is null unless that event is one of them.",
    resolve: async (_root, _args, ctx) => {
      const { prisma } = ctx.runtime;
      const check = await verifyLedger(prisma, ctx.actor.organizationId);
      // Sequences start at 1 without gaps: the events checked are the first eventsChecked.
      const eventsChecked =
        ctx.actor.campaignIds === null
          ? check.eventsChecked
          : await prisma.consentEvent.count({
              where: {
                AND: [{ sequence: { lte: check.eventsChecked } }, visible.consentEvent(ctx.actor)],
              },
            });
      const broken = check.firstBrokenEventId
        ? await prisma.consentEvent.findFirst({
            where: { AND: [{ id: check.firstBrokenEventId }, visible.consentEvent(ctx.actor)] },
            select: { id: true },
          })
        : null;
      return {
        ok: check.ok,
        eventsChecked,
        firstBrokenEventId: broken ? encodeGlobalID("ConsentEvent", broken.id) : null,
      };
    },
  }),
);

builder.subscriptionField("consentChanged", (t) =>
  t.field({
    type: ConsentEvent,
    description:
      "Consent events as they commit. With `after` (any event's cursor) it first replays every matching event committed since, then continues live: no gap, no duplicate, in sequence order.",
    args: { campaignId: t.arg.id(), subscriberId: t.arg.id(), after: t.arg.string() },
    subscribe: async (_root, args, ctx) => {
      const filter = await consentStreamFilter(ctx, {
        campaignId:
          args.campaignId == null ? undefined : rowIdOf("Campaign", String(args.campaignId)),
        subscriberId:
          args.subscriberId == null ? undefined : rowIdOf("Subscriber", String(args.subscriberId)),
      });
      const streams = ctx.runtime.streams.consentEvents;
      const organizationId = ctx.actor.organizationId;
      const after =
        args.after != null
          ? decodeCursor("consent", args.after)
          : await streams.head(organizationId);
      return streams.open(organizationId, after, filter, ctx.onSlowConsumer);
    },
    resolve: (event) => event,
  }),
);
