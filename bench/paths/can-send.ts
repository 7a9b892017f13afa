// 1. canSend, one number per request, over HTTP. Baseline: a bare Yoga server whose resolver runs
// the same lookup on the raw driver. Both get the same numbers in the same order (90% opted in,
// 10% never seen) from the same number of keep-alive connections.
import type { RunContext } from "../lib/context.ts";
import { fmt, interleave, log, medians } from "../lib/interleave.ts";
import { graphqlOk, httpLoad, type HttpRequest } from "../lib/load.ts";
import { gql, startHttpBaseline, startOptgraph, type Server } from "../lib/optgraph.ts";
import { describeCheck, statementsPerRequest } from "../lib/statements.ts";
import type { Budget } from "../lib/stats.ts";
import { failuresRow, infoRow, ratioRow, type BenchResult } from "../lib/results.ts";

const QUERY = /* GraphQL */ `
  query BenchCanSend($phone: String!, $campaignId: ID!, $at: DateTime) {
    canSend(phone: $phone, campaignId: $campaignId, at: $at) {
      phone
      allowed
      reason
    }
  }
`;

/** The baseline has no quiet hours, hence no `at`. */
const BASELINE_QUERY = /* GraphQL */ `
  query BenchCanSend($phone: String!, $campaignId: ID!) {
    canSend(phone: $phone, campaignId: $campaignId) {
      phone
      allowed
      reason
    }
  }
`;

function rotation(bodies: string[], headers: Record<string, string>): () => HttpRequest {
  let i = 0;
  return () => ({ path: "/graphql", headers, body: bodies[i++ % bodies.length] });
}

export async function canSendPath(ctx: RunContext): Promise<BenchResult[]> {
  const name = "canSend";
  const { world, config } = ctx;
  log(`${name}: ${config.canSend.connections} connections, ${world.readPhones.length} numbers`);
  const [optgraph, baseline] = await Promise.all([
    startOptgraph(ctx, "optgraph-canSend", { profileAs: name }),
    startHttpBaseline(
      ctx,
      "baseline-canSend-yoga-pg",
      "yoga-pg.ts",
      "/graphql?query=%7B__typename%7D",
      { BENCH_ORG_ID: world.read.rowId },
    ),
  ]);
  let runs;
  let rss: [number | null, number | null];
  try {
    const json = { "content-type": "application/json" };
    const optgraphNext = rotation(
      world.readPhones.map((phone) =>
        JSON.stringify({
          query: QUERY,
          variables: { phone, campaignId: world.read.campaignId, at: config.at },
        }),
      ),
      { ...json, authorization: `Bearer ${world.read.key}` },
    );
    const baselineNext = rotation(
      world.readPhones.map((phone) =>
        JSON.stringify({
          query: BASELINE_QUERY,
          variables: { phone, campaignId: world.read.campaignRowId },
        }),
      ),
      json,
    );
    const load = (origin: string, next: () => HttpRequest) => (budget: Budget) =>
      httpLoad({ origin, connections: config.canSend.connections, budget, next, check: graphqlOk });
    runs = await interleave(
      ctx,
      name,
      name,
      {
        optgraph: load(optgraph.origin, optgraphNext),
        baseline: load(baseline.origin, baselineNext),
      },
      fmt,
    );
    rss = [optgraph.proc.peakRssMb(), baseline.proc.peakRssMb()];
  } finally {
    await Promise.all([optgraph.stop(), baseline.stop()]);
  }
  const ask = (i: number) => (server: Server) =>
    gql(server.graphqlUrl, world.read.key, QUERY, {
      phone: world.readPhones[i % world.readPhones.length],
      campaignId: world.read.campaignId,
      at: config.at,
    });
  const check = await statementsPerRequest(ctx, name, [1, 2, 3, 4, 5].map(ask), [ask(0)]);
  log(`  ${name} SQL statements per request: ${describeCheck(check)}`);
  const m = medians(runs);
  return [
    ratioRow(name, "throughput (req/s)", m.optgraph.throughput, m.baseline.throughput, ">=", 1.5),
    ratioRow(name, "p99 latency (ms)", m.optgraph.p99, m.baseline.p99, "<=", 1),
    infoRow(name, "p50 latency (ms)", m.optgraph.p50, m.baseline.p50),
    infoRow(name, "p95 latency (ms)", m.optgraph.p95, m.baseline.p95),
    infoRow(name, "SQL statements per request (max)", Math.max(...check.perRequest), 1),
    infoRow(name, "server peak RSS (MB)", rss[0], rss[1]),
    failuresRow(name, m.failures.optgraph, m.failures.baseline),
  ];
}
