// Baseline for canSend: a bare graphql-yoga server whose one resolver runs the same lookup
// (campaign + subscriber + consent, one statement) with the raw driver. No authentication, no
// phone parsing, no quiet hours, no plugins: the floor a GraphQL canSend over HTTP could reach.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";
import { closeOnSignal, openRawDb } from "./db.ts";

const port = Number(process.env.PORT);
const organizationId = process.env.BENCH_ORG_ID!;
const db = await openRawDb();

const LOOKUP = `
  select k.status::text as "campaignStatus", k.purpose::text as "campaignPurpose",
         s.timezone, c.status::text as status, c."expiresAt"
  from "Campaign" k
  left join "Subscriber" s on s."organizationId" = k."organizationId" and s.phone = $3
  left join "Consent" c on c."subscriberId" = s.id and c."campaignId" = k.id
  where k.id = $1::uuid and k."organizationId" = $2::uuid`;

interface Row {
  campaignStatus: string;
  status: string | null;
}

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type SendDecision {
      phone: String!
      allowed: Boolean!
      reason: String!
    }
    type Query {
      canSend(phone: String!, campaignId: ID!): SendDecision!
    }
  `,
  resolvers: {
    Query: {
      canSend: async (_root: unknown, args: { phone: string; campaignId: string }) => {
        const [row] = await db.query<Row>(LOOKUP, [args.campaignId, organizationId, args.phone]);
        if (!row) throw new Error("campaign not found");
        const reason =
          row.status === null || row.status === "EXPIRED"
            ? "NO_CONSENT"
            : row.status === "OPTED_OUT"
              ? "OPTED_OUT"
              : row.status === "PENDING"
                ? "PENDING_CONFIRMATION"
                : row.campaignStatus !== "ACTIVE"
                  ? "CAMPAIGN_NOT_ACTIVE"
                  : "ALLOWED";
        return { phone: args.phone, allowed: reason === "ALLOWED", reason };
      },
    },
  },
});

const yoga = createYoga({ schema, logging: false, graphiql: false, landingPage: false });
const server = createServer(yoga);
server.listen(port, "127.0.0.1");
closeOnSignal(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await db.close();
});
