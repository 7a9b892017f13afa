// 2. canSendMany with a batch of numbers (1,000 in a full run), one call at a time. Baseline: the
// raw SQL lookup for the same keys (the same statement shape optgraph sends) through the driver
// from its own process. Afterwards a separate optgraph instance behind a statement counter
// checks that each call is at most one SQL statement (none once the send cache holds the
// organization; src/services/send-decisions.ts promises it).
import { call, ready } from "../lib/ipc.ts";
import type { RunContext } from "../lib/context.ts";
import { fmt, interleave, log, medians } from "../lib/interleave.ts";
import { graphqlOk, httpLoad } from "../lib/load.ts";
import { gql, startOptgraph, type Server } from "../lib/optgraph.ts";
import { spawnTs } from "../lib/procs.ts";
import { absoluteRow, failuresRow, infoRow, ratioRow, type BenchResult } from "../lib/results.ts";
import type { Summary } from "../lib/stats.ts";
import { describeCheck, statementsPerRequest } from "../lib/statements.ts";

const QUERY = /* GraphQL */ `
  query BenchCanSendMany($phones: [String!]!, $campaignId: ID!, $at: DateTime) {
    canSendMany(phones: $phones, campaignId: $campaignId, at: $at) {
      phone
      allowed
      reason
    }
  }
`;

export async function canSendManyPath(ctx: RunContext): Promise<BenchResult[]> {
  const name = "canSendMany";
  const { world } = ctx;
  const batch = world.readPhones.length;
  const variables = {
    phones: world.readPhones,
    campaignId: world.read.campaignId,
    at: ctx.config.at,
  };
  log(`${name}: ${batch} numbers per call, one call at a time`);
  const raw = spawnTs("baseline-canSendMany-raw-lookup", "bench/baselines/raw-lookup.ts", [], {
    logDir: ctx.logDir,
    ipc: true,
    env: ctx.database.baselineEnv,
  });
  const optgraph = await startOptgraph(ctx, "optgraph-canSendMany", { profileAs: name }).catch(
    async (error: unknown) => {
      await raw.stop();
      throw error;
    },
  );
  let runs;
  let rss: [number | null, number | null];
  try {
    await ready(raw);
    const body = JSON.stringify({ query: QUERY, variables });
    const headers = {
      "content-type": "application/json",
      authorization: `Bearer ${world.read.key}`,
    };
    const checkBatch = (status: number, text: string) =>
      graphqlOk(status, text) && text.split('"phone"').length - 1 === batch;
    runs = await interleave(
      ctx,
      name,
      name,
      {
        optgraph: (budget) =>
          httpLoad({
            origin: optgraph.origin,
            connections: 1,
            budget,
            next: () => ({ path: "/graphql", headers, body }),
            check: checkBatch,
          }),
        baseline: (budget) =>
          call<Summary>(raw, "run", {
            budget,
            concurrency: 1,
            organizationId: world.read.rowId,
            campaignId: world.read.campaignRowId,
            phones: world.readPhones,
          }),
      },
      fmt,
    );
    rss = [optgraph.proc.peakRssMb(), raw.peakRssMb()];
  } finally {
    await Promise.all([optgraph.stop(), raw.stop()]);
  }
  const lookup = (server: Server) => gql(server.graphqlUrl, world.read.key, QUERY, variables);
  const check = await statementsPerRequest(
    ctx,
    name,
    Array.from({ length: ctx.config.canSendMany.verifyCalls }, () => lookup),
    [lookup, lookup, lookup],
  );
  const worst = Math.max(...check.perRequest);
  log(`  ${name} SQL statements per call: ${describeCheck(check)}`);
  for (const kind of check.kinds) log(`    ${kind}`);
  const m = medians(runs);
  return [
    ratioRow(name, `p50 latency (ms, ${batch} numbers)`, m.optgraph.p50, m.baseline.p50, "<=", 1),
    infoRow(name, "p95 latency (ms)", m.optgraph.p95, m.baseline.p95),
    infoRow(name, "p99 latency (ms)", m.optgraph.p99, m.baseline.p99),
    infoRow(
      name,
      "throughput (calls/s, 1 at a time)",
      m.optgraph.throughput,
      m.baseline.throughput,
    ),
    // 0 once the send cache holds the organization, 1 (the batch's lookup) while it cannot vouch
    absoluteRow(name, "SQL statements per call (max)", worst, 1, "<=", 1),
    infoRow(name, "peak RSS (MB): server | raw-lookup process", rss[0], rss[1]),
    failuresRow(name, m.failures.optgraph, m.failures.baseline),
  ];
}
