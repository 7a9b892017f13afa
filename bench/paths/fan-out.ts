// 4. Fan-out: the same number of WebSocket clients (1,000 in a full run, spread over a few load
// processes) on each side. optgraph: graphql-ws clients subscribed to consentChanged of one
// organization, events made by optIn mutations. Baseline: a raw `ws` server that sends one
// pre-serialized payload per event to every client, events made by POST /publish.
//
// Each round runs, per side: a rate phase (events published on a fixed schedule, 30/s in a full
// run: a rate the raw baseline sustains on 2 cores) measuring deliveries per second and
// publish-to-last-receipt per event — from the moment the producer sent its request to the moment
// the last client got the event — and refused publishes (an optIn answered with an error, e.g. a
// retryable 503, while delivery runs); and a burst phase (a fixed number of events from several
// concurrent producers, as fast as they are accepted) measuring peak deliveries per second
// (receipts / time from first publish to last receipt), for information.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { RunContext } from "../lib/context.ts";
import { measured } from "../lib/context.ts";
import { call, ready } from "../lib/ipc.ts";
import { log } from "../lib/interleave.ts";
import { gql, startHttpBaseline, startOptgraph } from "../lib/optgraph.ts";
import { AREA, phoneNumber } from "../lib/phones.ts";
import { machineTicks, quiesce, spawnTs, type Proc } from "../lib/procs.ts";
import { absoluteRow, failuresRow, infoRow, ratioRow, type BenchResult } from "../lib/results.ts";
import { EVIDENCE, OPT_IN } from "../lib/seed.ts";
import { median, nowMs, percentile } from "../lib/stats.ts";
import { isAuthentication, withCountedOptgraph } from "../lib/statements.ts";

type Target = "optgraph" | "baseline";

/** What each client selects; BENCH_FANOUT_FIELDS changes it (e.g. without cursor, to compare). */
const FIELDS = process.env.BENCH_FANOUT_FIELDS || "id cursor sequence toStatus method recordedAt";
const SUBSCRIPTION = `subscription BenchConsentChanged { consentChanged { ${FIELDS} } }`;

interface PhaseResult {
  events: number;
  deliveriesPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** deliveries that never arrived, failed publishes, client errors */
  failures: number;
  /** publishes answered with an error (optgraph: a refused optIn) */
  refused: number;
  /** how long the publish request itself took (optgraph: the optIn's response), p99 */
  publishP99: number;
  /** CPU from the first publish to the last receipt: the server's, the load processes', in cores */
  serverCores: number;
  loadCores: number;
  /** the whole machine's busy and stolen share of its cores */
  machineBusy: number;
  machineSteal: number;
  firstFailure?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SQL statements optgraph sends per delivery, on a counted instance: the statements of a few
 * opt-ins with 20 subscribers, less those of as many opt-ins with none, per delivered event.
 */
async function statementsPerDelivery(ctx: RunContext): Promise<number> {
  const { world } = ctx;
  const SUBSCRIBERS = 20;
  const EVENTS = 3;
  return withCountedOptgraph(ctx, "optgraph-fanOut-statements", async (server, counter) => {
    let n = 300;
    const publish = async (): Promise<number> => {
      const data = await gql(server.graphqlUrl, world.fanOut.key, OPT_IN, {
        input: {
          phone: phoneNumber(AREA.statements, n++),
          campaignId: world.fanOut.campaignId,
          method: "WEB_FORM",
          evidence: EVIDENCE,
        },
      });
      return data.optIn.event.sequence as number;
    };
    const counted = async () =>
      (await counter.take()).filter((sql) => !isAuthentication(sql)).length;
    const received = new Map<number, number>();
    const delivered = async (event: number, timeoutMs = 10_000) => {
      const deadline = nowMs() + timeoutMs;
      while ((received.get(event) ?? 0) < SUBSCRIBERS && nowMs() < deadline) await sleep(10);
    };
    await publish();
    await counted();
    for (let i = 0; i < EVENTS; i++) await publish();
    const alone = await counted();
    const clients = Array.from({ length: SUBSCRIBERS }, () => {
      const client = createClient({
        url: `ws://127.0.0.1:${server.port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${world.fanOut.key}` },
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: () => undefined,
      });
      client.subscribe<{ consentChanged: { sequence: number } }>(
        { query: SUBSCRIPTION },
        {
          next: ({ data }) => {
            const event = data?.consentChanged.sequence ?? -1;
            received.set(event, (received.get(event) ?? 0) + 1);
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
      return client;
    });
    try {
      // until a probe reaches every subscriber, not every subscription is live yet (a probe sent
      // before they are is never delivered to them: try again soon rather than wait it out)
      for (let attempt = 0; attempt < 40; attempt++) {
        const probe = await publish();
        await delivered(probe, 250);
        if ((received.get(probe) ?? 0) >= SUBSCRIBERS) break;
      }
      await sleep(200);
      await counted();
      for (let i = 0; i < EVENTS; i++) await delivered(await publish());
      const withSubscribers = await counted();
      return (withSubscribers - alone) / (EVENTS * SUBSCRIBERS);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });
}

export async function fanOutPath(ctx: RunContext): Promise<BenchResult[]> {
  const name = "fanOut";
  const { world, config } = ctx;
  const { clients, processes, eventsPerSecond, burstEvents, burstConcurrency } = config.fanOut;
  log(
    `${name}: ${clients} clients per side over ${processes} load processes, ` +
      `${eventsPerSecond} events/s, bursts of ${burstEvents}`,
  );
  const [optgraph, baseline] = await Promise.all([
    startOptgraph(ctx, "optgraph-fanOut", {
      profileAs: name,
      // every client holds a connection of the one fan-out key
      env: { OPTGRAPH_MAX_CONNECTIONS_PER_KEY: String(clients + 100) },
    }),
    startHttpBaseline(ctx, "baseline-fanOut-ws-broadcast", "ws-broadcast.ts", "/healthz"),
  ]);
  const loaders: Proc[] = Array.from({ length: processes }, (_, k) =>
    spawnTs(`fanout-clients-${k + 1}`, "bench/fanout-clients.ts", [], {
      logDir: ctx.logDir,
      ipc: true,
      env: {},
    }),
  );
  let rows: BenchResult[];
  const all = <T>(type: string, payload: (k: number) => unknown) =>
    Promise.all(loaders.map((p, k) => call<T>(p, type, payload(k))));
  try {
    await Promise.all(loaders.map((p) => ready(p)));
    const share = (k: number) =>
      Math.floor(clients / processes) + (k < clients % processes ? 1 : 0);
    await all("connectOptgraph", (k) => ({
      url: `ws://127.0.0.1:${optgraph.port}/graphql`,
      key: world.fanOut.key,
      count: share(k),
      query: SUBSCRIPTION,
    }));
    await all("connectBaseline", (k) => ({
      url: `ws://127.0.0.1:${baseline.port}/ws`,
      count: share(k),
    }));

    let phones = 0;
    const publishers: Record<Target, () => Promise<number>> = {
      optgraph: async () => {
        const data = await gql(optgraph.graphqlUrl, world.fanOut.key, OPT_IN, {
          input: {
            phone: phoneNumber(AREA.fanOut, phones++),
            campaignId: world.fanOut.campaignId,
            method: "WEB_FORM",
            evidence: EVIDENCE,
          },
        });
        return data.optIn.event.sequence as number;
      },
      baseline: (() => {
        let id = 0;
        return async () => {
          const event = ++id;
          const response = await fetch(`${baseline.origin}/publish`, {
            method: "POST",
            body: JSON.stringify({ id: event }),
          });
          await response.arrayBuffer();
          if (!response.ok) throw new Error(`publish answered ${response.status}`);
          return event;
        };
      })(),
    };

    /** receipts of events `from` on (earlier probes may still arrive late), and client errors */
    const totals = async (target: Target, from?: number) => {
      const counts = await all<{
        total: number;
        errors: number;
        closed: number;
        firstError: string | null;
      }>("counts", () => ({ target, from }));
      return {
        total: counts.reduce((s, c) => s + c.total, 0),
        errors: counts.reduce((s, c) => s + c.errors, 0),
        firstError: counts.find((c) => c.firstError)?.firstError ?? undefined,
      };
    };

    let optgraphBehind = false;

    /** Publishes probes until one reaches every client: every subscription is live. */
    const barrier = async (target: Target) => {
      for (let attempt = 0; attempt < 30; attempt++) {
        const event = await publishers[target]();
        const deadline = nowMs() + 2000;
        while (nowMs() < deadline) {
          const got = (await all<number>("eventCount", () => ({ target, event }))).reduce(
            (s, c) => s + c,
            0,
          );
          if (got >= clients) {
            await sleep(200);
            await all("collect", () => ({ target }));
            return;
          }
          await sleep(50);
        }
      }
      throw new Error(`${target}: not every client received an event`);
    };

    /** Waits until `expected` receipts arrived, or nothing arrived for 3 s (15 s at most). */
    const settle = async (target: Target, from: number, expected: number) => {
      const deadline = nowMs() + 15_000;
      let last = -1;
      let lastChange = nowMs();
      for (;;) {
        const { total } = await totals(target, from);
        if (total >= expected || nowMs() > deadline) return;
        if (total !== last) {
          last = total;
          lastChange = nowMs();
        } else if (nowMs() - lastChange > 3000) return;
        await sleep(20);
      }
    };

    const phase = async (
      target: Target,
      mode: { rate: number; durationMs: number } | { events: number; concurrency: number },
    ): Promise<PhaseResult> => {
      // after a phase optgraph did not finish, its clients subscribe afresh (the server drops
      // what it still owed them); clients it closed as slow consumers subscribe again
      const revived = (await all<number>("reviveOptgraph", () => ({ all: optgraphBehind }))).reduce(
        (s, n) => s + n,
        0,
      );
      optgraphBehind = false;
      if (revived > 0) {
        log(`  ${name}: ${revived} optgraph clients subscribed afresh`);
        await quiesce([optgraph.proc]);
        await barrier("optgraph");
      }
      // neither server (nor a load process) may still be busy with the last phase
      await quiesce([optgraph.proc, baseline.proc, ...loaders]);
      const server = target === "optgraph" ? optgraph.proc : baseline.proc;
      const cpu = () => ({
        at: nowMs(),
        server: server.cpuTicks() ?? 0,
        load: loaders.reduce((sum, loader) => sum + (loader.cpuTicks() ?? 0), 0),
        machine: machineTicks(),
      });
      const cpuBefore = cpu();
      const publish = publishers[target];
      const published = new Map<number, number>();
      let publishFailures = 0;
      let firstFailure: string | undefined;
      const answered: number[] = [];
      const one = async () => {
        const sentAt = nowMs();
        try {
          published.set(await publish(), sentAt);
          answered.push(nowMs() - sentAt);
        } catch (error) {
          publishFailures++;
          firstFailure ??= (error as Error).message;
        }
      };
      if ("rate" in mode) {
        const interval = 1000 / mode.rate;
        const count = Math.max(1, Math.round(mode.durationMs / interval));
        const start = nowMs();
        const pending: Promise<void>[] = [];
        for (let i = 0; i < count; i++) {
          const wait = start + i * interval - nowMs();
          if (wait > 0) await sleep(wait);
          pending.push(one());
        }
        await Promise.all(pending);
      } else {
        let left = mode.events;
        await Promise.all(
          Array.from({ length: mode.concurrency }, async () => {
            while (left > 0) {
              left--;
              await one();
            }
          }),
        );
      }
      await settle(target, Math.min(...published.keys()), published.size * clients);
      const settledAt = nowMs();
      const cpuAfter = cpu();
      const cores = (ticks: number) => ticks / 100 / ((cpuAfter.at - cpuBefore.at) / 1000); // USER_HZ
      const machineTotal = cpuAfter.machine.total - cpuBefore.machine.total || 1;
      const receipts = new Map<number, { count: number; last: number }>();
      for (const entries of await all<[number, number, number][]>("collect", () => ({ target }))) {
        for (const [event, count, last] of entries) {
          const seen = receipts.get(event);
          if (seen) {
            seen.count += count;
            seen.last = Math.max(seen.last, last);
          } else receipts.set(event, { count, last });
        }
      }
      const latencies: number[] = [];
      let delivered = 0;
      let lastReceipt = 0;
      for (const [event, sentAt] of published) {
        const got = receipts.get(event);
        delivered += got?.count ?? 0;
        if (got) lastReceipt = Math.max(lastReceipt, got.last);
        // an event some client never got counts as late as the wait for it lasted
        latencies.push((got && got.count >= clients ? got.last : settledAt) - sentAt);
      }
      const firstSent = Math.min(...published.values());
      const { errors, firstError } = await totals(target);
      const missed = published.size * clients - delivered;
      if (target === "optgraph") optgraphBehind = missed > 0;
      return {
        events: published.size,
        deliveriesPerSecond:
          lastReceipt > firstSent ? (delivered * 1000) / (lastReceipt - firstSent) : 0,
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        publishP99: percentile(answered, 99),
        serverCores: cores(cpuAfter.server - cpuBefore.server),
        loadCores: cores(cpuAfter.load - cpuBefore.load),
        machineBusy: (cpuAfter.machine.busy - cpuBefore.machine.busy) / machineTotal,
        machineSteal: (cpuAfter.machine.steal - cpuBefore.machine.steal) / machineTotal,
        failures: missed + publishFailures + errors,
        refused: publishFailures,
        firstFailure:
          firstFailure ?? firstError ?? (missed ? `${missed} deliveries missing` : undefined),
      };
    };

    await barrier("optgraph");
    await barrier("baseline");
    // a short warm-up: at the full rate optgraph falls behind, and a longer one only adds backlog
    const rate = { rate: eventsPerSecond, durationMs: Math.min(config.warmupMs, 2000) };
    await phase("optgraph", rate);
    await phase("baseline", rate);

    const phases: Record<Target, { rate: PhaseResult[]; burst: PhaseResult[] }> = {
      optgraph: { rate: [], burst: [] },
      baseline: { rate: [], burst: [] },
    };
    const measuredRate = { rate: eventsPerSecond, durationMs: config.durationMs };
    const burst = { events: burstEvents, concurrency: burstConcurrency };
    const show = (r: PhaseResult) =>
      `${r.deliveriesPerSecond.toFixed(0)} deliveries/s p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)} ms` +
      ` (publish p99 ${r.publishP99.toFixed(1)} ms; CPU: server ${r.serverCores.toFixed(2)}, load ` +
      `${r.loadCores.toFixed(2)} cores, machine ${(r.machineBusy * 100).toFixed(0)}% busy, ` +
      `${(r.machineSteal * 100).toFixed(1)}% stolen)` +
      (r.failures ? ` (${r.failures} failures: ${r.firstFailure})` : "");
    const roundCount = config.fanOut.rounds;
    for (let round = 1; round <= roundCount; round++) {
      phases.optgraph.rate.push(await measured(ctx, name, () => phase("optgraph", measuredRate)));
      phases.baseline.rate.push(await phase("baseline", measuredRate));
      phases.optgraph.burst.push(await measured(ctx, name, () => phase("optgraph", burst)));
      phases.baseline.burst.push(await phase("baseline", burst));
      for (const target of ["optgraph", "baseline"] as const) {
        log(
          `  ${name} round ${round}/${roundCount} ${target}: rate ${show(phases[target].rate.at(-1)!)}` +
            ` | burst ${show(phases[target].burst.at(-1)!)}`,
        );
      }
    }
    const med = (target: Target, phase: "rate" | "burst", key: keyof PhaseResult) =>
      median(phases[target][phase].map((r) => r[key] as number));
    const failures = (target: Target) =>
      [...phases[target].rate, ...phases[target].burst].reduce((s, r) => s + r.failures, 0);
    const rss: [number | null, number | null] = [
      optgraph.proc.peakRssMb(),
      baseline.proc.peakRssMb(),
    ];
    const rateLabel = `${eventsPerSecond} events/s, ${clients} clients`;
    const refused = (target: Target) =>
      [...phases[target].rate, ...phases[target].burst].reduce((s, r) => s + r.refused, 0);
    rows = [
      ratioRow(
        name,
        `deliveries/s (${rateLabel})`,
        med("optgraph", "rate", "deliveriesPerSecond"),
        med("baseline", "rate", "deliveriesPerSecond"),
        ">=",
        0.6,
      ),
      ratioRow(
        name,
        `publish-to-last-receipt p99 (ms, ${rateLabel})`,
        med("optgraph", "rate", "p99"),
        med("baseline", "rate", "p99"),
        "<=",
        2,
      ),
      infoRow(
        name,
        "publish-to-last-receipt p50 (ms)",
        med("optgraph", "rate", "p50"),
        med("baseline", "rate", "p50"),
      ),
      infoRow(
        name,
        "publish-to-last-receipt p95 (ms)",
        med("optgraph", "rate", "p95"),
        med("baseline", "rate", "p95"),
      ),
      infoRow(
        name,
        "publish request p99 (ms, the optIn's own response time)",
        med("optgraph", "rate", "publishP99"),
        med("baseline", "rate", "publishP99"),
      ),
      infoRow(
        name,
        `deliveries/s (bursts of ${burstEvents} events, ${clients} clients)`,
        med("optgraph", "burst", "deliveriesPerSecond"),
        med("baseline", "burst", "deliveriesPerSecond"),
      ),
      absoluteRow(name, "server peak RSS (MB)", rss[0], rss[1], "<=", 300),
      absoluteRow(
        name,
        "refused publishes (rate and burst phases)",
        refused("optgraph"),
        refused("baseline"),
        "==",
        0,
      ),
      failuresRow(
        name,
        failures("optgraph"),
        failures("baseline"),
        "failures (missed deliveries, failed publishes, client errors)",
      ),
    ];
  } finally {
    await Promise.all(
      loaders.map((p) =>
        p.running ? call(p, "close", null, 30_000).catch(() => undefined) : null,
      ),
    );
    await Promise.all(loaders.map((p) => p.stop(5000)));
    await Promise.all([optgraph.stop(), baseline.stop()]);
  }
  const perDelivery = await statementsPerDelivery(ctx);
  log(
    `  ${name} SQL statements per delivery (20 subscribers, 3 events): ${perDelivery.toFixed(2)}`,
  );
  rows.splice(rows.length - 1, 0, infoRow(name, "SQL statements per delivery", perDelivery, 0));
  return rows;
}
