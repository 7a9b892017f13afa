// 5. The Twilio webhook: a burst into one organization of signed form posts (Twilio's full
// parameter set) of START (a new number joins the sender's one campaign), then STOP, then START
// (restoring what the STOP ended) … for each number, each with a new MessageSid. The baseline is
// the same consent changes through GraphQL on the same server: optIn then optOut (scope SENDER,
// as a STOP is), alternating per number. Both sides write on every request.
import { createHmac } from "node:crypto";
import type { RunContext } from "../lib/context.ts";
import { fmt, interleave, log, medians } from "../lib/interleave.ts";
import { graphqlOk, httpLoad, sendChecked, type HttpRequest } from "../lib/load.ts";
import { PUBLIC_URL, startOptgraph, TWILIO_TOKEN, type Server } from "../lib/optgraph.ts";
import { AREA, phoneNumber } from "../lib/phones.ts";
import { absoluteRow, failuresRow, infoRow, ratioRow, type BenchResult } from "../lib/results.ts";
import type { OrgSetup } from "../lib/seed.ts";
import { describeCheck, statementsPerRequest } from "../lib/statements.ts";

const PATH = "/webhooks/twilio/sms";

/** MessageSids must never repeat across runs on one database (a repeat is answered from memory). */
const runIdOf = (() => {
  const id = Date.now().toString(36);
  return () => id;
})();

const OPT_OUT = /* GraphQL */ `
  mutation BenchOptOut($input: OptOutInput!) {
    optOut(input: $input) {
      changed
      confirmationMessage
      consents {
        id
        status
      }
    }
  }
`;

const OPT_IN = /* GraphQL */ `
  mutation BenchOptInAgain($input: OptInInput!) {
    optIn(input: $input) {
      changed
      confirmationMessage
      consent {
        id
        status
      }
    }
  }
`;

/** base64(HMAC-SHA1(token, url + each parameter's name and value, sorted by name)) */
function sign(url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac("sha1", TWILIO_TOKEN).update(data, "utf8").digest("base64");
}

/** A signed Twilio form post of STOP or START from `phone` to the organization's sender. */
function webhookRequest(org: OrgSetup, phone: string, stop: boolean, id: string): HttpRequest {
  const sid = `SM${id.padStart(32, "0")}`;
  const params: Record<string, string> = {
    ToCountry: "US",
    ToState: "CA",
    SmsMessageSid: sid,
    NumMedia: "0",
    ToCity: "SAN FRANCISCO",
    FromZip: "10001",
    SmsSid: sid,
    FromState: "NY",
    SmsStatus: "received",
    FromCity: "NEW YORK",
    Body: stop ? "STOP" : "START",
    FromCountry: "US",
    To: org.senderAddress,
    ToZip: "94105",
    NumSegments: "1",
    MessageSid: sid,
    AccountSid: "AC00000000000000000000000000000000",
    From: phone,
    ApiVersion: "2010-04-01",
  };
  return {
    path: PATH,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": sign(`${PUBLIC_URL}${PATH}`, params),
    },
    body: new URLSearchParams(params).toString(),
  };
}

/** The same change through GraphQL: optOut (scope SENDER, as a STOP is) or optIn. */
function mutationRequest(org: OrgSetup, phone: string, stop: boolean): HttpRequest {
  const input = stop
    ? { phone, campaignId: org.campaignId, scope: "SENDER", method: "KEYWORD" }
    : { phone, campaignId: org.campaignId, method: "KEYWORD" };
  return {
    path: "/graphql",
    headers: { "content-type": "application/json", authorization: `Bearer ${org.key}` },
    body: JSON.stringify({ query: stop ? OPT_OUT : OPT_IN, variables: { input } }),
  };
}

const webhookOk = (status: number, body: string) => status === 200 && body.includes("<Message>");
const mutationOk = (status: number, body: string) =>
  graphqlOk(status, body) && body.includes('"changed":true');

/** Request i: which organization, which of its numbers, and whether it opts out or back in. */
function schedule(orgs: OrgSetup[], phonesPerOrg: number, areaCode: string, i: number) {
  const orgIndex = i % orgs.length;
  const slot = Math.floor(i / orgs.length);
  return {
    org: orgs[orgIndex],
    phone: phoneNumber(areaCode, orgIndex * phonesPerOrg + (slot % phonesPerOrg)),
    stop: Math.floor(slot / phonesPerOrg) % 2 === 1,
  };
}

export async function twilioWebhookPath(ctx: RunContext): Promise<BenchResult[]> {
  const name = "twilioWebhook";
  const { world, config } = ctx;
  const { connections, phonesPerOrg } = config.twilioWebhook;
  const orgs = world.webhook.slice(0, 1);
  log(`${name}: ${connections} connections, one organization, START/STOP alternating`);
  const server = await startOptgraph(ctx, "optgraph-twilioWebhook", { profileAs: name });
  let runs;
  let rss: number | null;
  try {
    const runId = runIdOf();
    let sids = 0;
    let webhooks = 0;
    const webhookNext = () => {
      const { org, phone, stop } = schedule(orgs, phonesPerOrg, AREA.webhook, webhooks++);
      return webhookRequest(org, phone, stop, `${runId}-${sids++}`);
    };
    let mutations = 0;
    const mutationNext = () => {
      const { org, phone, stop } = schedule(orgs, phonesPerOrg, AREA.webhookBaseline, mutations++);
      return mutationRequest(org, phone, stop);
    };
    runs = await interleave(
      ctx,
      name,
      name,
      {
        optgraph: (budget) =>
          httpLoad({
            origin: server.origin,
            connections,
            budget,
            next: webhookNext,
            check: webhookOk,
          }),
        baseline: (budget) =>
          httpLoad({
            origin: server.origin,
            connections,
            budget,
            next: mutationNext,
            check: mutationOk,
          }),
      },
      fmt,
    );
    rss = server.proc.peakRssMb();
  } finally {
    await server.stop();
  }
  // statements per request, one at a time on a counted instance: a number's START then STOP,
  // and another number's optIn then optOut
  const org = orgs[0];
  const number = (i: number) => phoneNumber(AREA.statements, 100 + i);
  const hook = (i: number, stop: boolean) => (s: Server) =>
    sendChecked(
      s.origin,
      webhookRequest(org, number(i), stop, `count-${runIdOf()}-${i}-${stop}`),
      webhookOk,
    );
  const mutate = (i: number, stop: boolean) => (s: Server) =>
    sendChecked(s.origin, mutationRequest(org, number(i), stop), mutationOk);
  const check = await statementsPerRequest(
    ctx,
    name,
    [hook(1, false), hook(1, true), hook(2, false), hook(2, true)].concat([
      mutate(51, false),
      mutate(51, true),
      mutate(52, false),
      mutate(52, true),
    ]),
    [hook(0, false), hook(0, true), mutate(50, false), mutate(50, true)],
  );
  const hooks = check.perRequest.slice(0, 4);
  const mutations = check.perRequest.slice(4);
  log(`  ${name} SQL statements per START, STOP, START, STOP: ${describeCheck(check, hooks)}`);
  log(`  ${name} SQL statements per optIn, optOut, optIn, optOut: ${mutations.join(", ")}`);
  const m = medians(runs);
  return [
    ratioRow(
      name,
      `throughput (req/s, ${orgs.length} orgs, ${connections} concurrent)`,
      m.optgraph.throughput,
      m.baseline.throughput,
      ">=",
      0.8,
    ),
    infoRow(name, "p50 latency (ms)", m.optgraph.p50, m.baseline.p50),
    infoRow(name, "p95 latency (ms)", m.optgraph.p95, m.baseline.p95),
    absoluteRow(name, "p99 latency (ms)", m.optgraph.p99, m.baseline.p99, "<=", 1000),
    infoRow(
      name,
      "SQL statements per request (max; webhook | mutation)",
      Math.max(...hooks),
      Math.max(...mutations),
    ),
    infoRow(name, "server peak RSS (MB, one process serves both)", rss, null),
    failuresRow(name, m.failures.optgraph, m.failures.baseline),
  ];
}
