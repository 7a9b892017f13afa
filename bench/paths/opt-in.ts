// 3. optIn, every request a new number (so every one writes: subscriber, consent, ledger event,
// head), spread round-robin over several organizations so the per-organization ledger lock is
// contended as it would be. Baseline: the same rows written by raw transactions from its own
// process, over as many organizations of its own, at the same concurrency.
// 3b. The same all into ONE organization (a TV ad's "Text JOIN to 12345"): every writer waits for
// the same ledger head, so the serialized design (one transaction per opt-in, the baseline) is
// bounded by one lock; optgraph's group commit must beat it.
import { call, ready } from "../lib/ipc.ts";
import type { RunContext } from "../lib/context.ts";
import { fmt, interleave, log, medians } from "../lib/interleave.ts";
import { graphqlOk, httpLoad } from "../lib/load.ts";
import { gql, startOptgraph, type Server } from "../lib/optgraph.ts";
import { describeCheck, statementsPerRequest } from "../lib/statements.ts";
import { AREA, phoneNumber } from "../lib/phones.ts";
import { spawnTs } from "../lib/procs.ts";
import { absoluteRow, failuresRow, infoRow, ratioRow, type BenchResult } from "../lib/results.ts";
import { EVIDENCE, OPT_IN } from "../lib/seed.ts";
import type { Summary } from "../lib/stats.ts";

export const optInPath = (ctx: RunContext) =>
  optInRun(ctx, "optIn", ctx.world.optIn.optgraph.length);

export const optInOneOrganizationPath = (ctx: RunContext) => optInRun(ctx, "optInOneOrg", 1);

/** 0 for the multi-organization run, 1 for the one-organization run */
let oneOrganizationRuns = 0;

async function optInRun(
  ctx: RunContext,
  name: string,
  organizations: number,
): Promise<BenchResult[]> {
  const { world, config } = ctx;
  oneOrganizationRuns = organizations === 1 ? 1 : 0;
  const orgs = world.optIn.optgraph.slice(0, organizations);
  const connections = config.optIn.connections;
  log(`${name}: ${connections} connections, ${orgs.length} organizations per side, new numbers`);
  const raw = spawnTs("baseline-optIn-raw-transaction", "bench/baselines/raw-optin.ts", [], {
    logDir: ctx.logDir,
    ipc: true,
    env: ctx.database.baselineEnv,
  });
  const optgraph = await startOptgraph(ctx, "optgraph-optIn", { profileAs: name }).catch(
    async (error: unknown) => {
      await raw.stop();
      throw error;
    },
  );
  let runs;
  let rss: [number | null, number | null];
  try {
    await ready(raw);
    let n = 0;
    // each run its own numbers: a number another run opted in would change nothing
    const numberBase = oneOrganizationRuns * 350_000;
    const next = () => {
      const i = n++;
      const org = orgs[i % orgs.length];
      return {
        path: "/graphql",
        headers: { "content-type": "application/json", authorization: `Bearer ${org.key}` },
        body: JSON.stringify({
          query: OPT_IN,
          variables: {
            input: {
              phone: phoneNumber(AREA.optInOptgraph, numberBase + i),
              campaignId: org.campaignId,
              method: "WEB_FORM",
              evidence: EVIDENCE,
            },
          },
        }),
      };
    };
    const targets = world.optIn.baseline.slice(0, organizations).map((org) => ({
      organizationId: org.rowId,
      campaignId: org.campaignRowId,
    }));
    runs = await interleave(
      ctx,
      name,
      name,
      {
        optgraph: (budget) =>
          httpLoad({
            origin: optgraph.origin,
            connections,
            budget,
            next,
            check: (status, body) => graphqlOk(status, body) && body.includes('"changed":true'),
          }),
        baseline: (budget) =>
          call<Summary>(raw, "run", {
            budget,
            concurrency: connections,
            targets,
            areaCode: AREA.optInBaseline,
          }),
      },
      fmt,
    );
    rss = [optgraph.proc.peakRssMb(), raw.peakRssMb()];
  } finally {
    await Promise.all([optgraph.stop(), raw.stop()]);
  }
  const org = orgs[0];
  const optIn = (i: number) => (server: Server) =>
    gql(server.graphqlUrl, org.key, OPT_IN, {
      input: {
        phone: phoneNumber(AREA.statements, i),
        campaignId: org.campaignId,
        method: "WEB_FORM",
        evidence: EVIDENCE,
      },
    });
  const check = await statementsPerRequest(ctx, name, [1, 2, 3, 4].map(optIn), [optIn(0)]);
  log(`  ${name} SQL statements per opt-in (new number): ${describeCheck(check)}`);
  const m = medians(runs);
  const oneOrganization = organizations === 1;
  return [
    ratioRow(
      name,
      `throughput (opt-ins/s, ${orgs.length} orgs, ${connections} concurrent)`,
      m.optgraph.throughput,
      m.baseline.throughput,
      ">=",
      oneOrganization ? 1.0 : 0.5,
    ),
    infoRow(name, "p50 latency (ms)", m.optgraph.p50, m.baseline.p50),
    infoRow(name, "p95 latency (ms)", m.optgraph.p95, m.baseline.p95),
    oneOrganization
      ? absoluteRow(name, "p99 latency (ms)", m.optgraph.p99, m.baseline.p99, "<=", 250)
      : infoRow(name, "p99 latency (ms)", m.optgraph.p99, m.baseline.p99),
    // the raw transaction: begin, lock, campaign, subscriber, consent, event, head, commit
    infoRow(name, "SQL statements per opt-in (max)", Math.max(...check.perRequest), 8),
    infoRow(name, "peak RSS (MB): server | raw-transaction process", rss[0], rss[1]),
    failuresRow(name, m.failures.optgraph, m.failures.baseline),
  ];
}
