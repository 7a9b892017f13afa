// canSend and canSendMany over GraphQL: the answer a sender asks for before every message; and a
// campaign's audience, the subscribers canSendMany allows at a given time.
import { badInput } from "../domain/errors.ts";
import { audiencePage, type AudienceMember } from "../services/audience.ts";
import { canSend, canSendMany, MAX_BATCH } from "../services/send-decisions.ts";
import { builder } from "./builder.ts";
import { Consent } from "./consent.ts";
import { rowIdOf } from "./ids.ts";

const SendDecisionReasonEnum = builder.enumType("SendDecisionReason", {
  values: [
    "ALLOWED",
    "NO_CONSENT",
    "PENDING_CONFIRMATION",
    "OPTED_OUT",
    "CAMPAIGN_NOT_ACTIVE",
    "QUIET_HOURS",
  ] as const,
});

const SendDecision = builder.simpleObject("SendDecision", {
  fields: (t) => ({
    phone: t.string({ description: "The number as E.164." }),
    allowed: t.boolean(),
    reason: t.field({ type: SendDecisionReasonEnum }),
    consent: t.field({ type: Consent, nullable: true }),
    nextAllowedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "For QUIET_HOURS: the first instant the message would be allowed.",
    }),
  }),
});

builder.queryFields((t) => ({
  canSend: t.field({
    type: SendDecision,
    description: "May this number be texted for this campaign at `at` (default: now)?",
    args: {
      phone: t.arg.string({ required: true }),
      campaignId: t.arg.id({ required: true }),
      at: t.arg({ type: "DateTime" }),
    },
    resolve: (_root, args, ctx) =>
      canSend(
        ctx.runtime,
        ctx.actor,
        args.phone,
        rowIdOf("Campaign", String(args.campaignId)),
        args.at,
      ),
  }),
  canSendMany: t.field({
    type: [SendDecision],
    description: `canSend for up to ${MAX_BATCH} numbers at once, in input order, in one database round trip.`,
    args: {
      phones: t.arg.stringList({ required: true }),
      campaignId: t.arg.id({ required: true }),
      at: t.arg({ type: "DateTime" }),
    },
    resolve: (_root, args, ctx) =>
      canSendMany(
        ctx.runtime,
        ctx.actor,
        args.phones,
        rowIdOf("Campaign", String(args.campaignId)),
        args.at,
      ),
  }),
}));

const AudienceConnection = builder.connectionObject(
  { type: SendDecision, name: "AudienceConnection" },
  { name: "AudienceEdge" },
);

const MAX_AUDIENCE_PAGE = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const audienceCursor = (subscriberId: string) =>
  Buffer.from(`audience:${subscriberId}`).toString("base64url");

function subscriberAfter(cursor: string): string {
  const id = /^audience:(.+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))?.[1];
  if (!id || !UUID.test(id)) throw badInput("after", "is not a cursor of this connection");
  return id;
}

builder.queryField("audience", (t) =>
  t.field({
    type: AudienceConnection,
    description:
      "The campaign's audience at `at` (default: now): its opted-in subscribers that canSend allows then, by subscriber id. Each page is decided by canSendMany itself. Also GET /exports/audience.csv.",
    args: {
      campaignId: t.arg.id({ required: true }),
      at: t.arg({ type: "DateTime" }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 100;
      if (first < 0 || first > MAX_AUDIENCE_PAGE) {
        throw badInput("first", `must be between 0 and ${MAX_AUDIENCE_PAGE}`);
      }
      const campaignId = rowIdOf("Campaign", String(args.campaignId));
      const at = args.at ?? new Date();
      const members: AudienceMember[] = [];
      let after = args.after == null ? null : subscriberAfter(args.after);
      // One member more than asked for tells whether there is a next page.
      for (;;) {
        const page = await audiencePage(ctx.runtime, ctx.actor, campaignId, at, after);
        members.push(...page.members);
        if (members.length > first || !page.next) break;
        after = page.next;
      }
      const edges = members.slice(0, first).map((member) => ({
        cursor: audienceCursor(member.subscriberId),
        node: member.decision,
      }));
      return {
        edges,
        pageInfo: {
          hasNextPage: members.length > first,
          hasPreviousPage: false,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
      };
    },
  }),
);
