// Two optgraph processes on one PostgreSQL: a subscriber on instance A gets every change made
// through instance B, woken by PostgreSQL NOTIFY (no REDIS_URL) or by Redis pub/sub (REDIS_URL).
// The poll is set to a minute, so prompt delivery can only come from the wake-up. Then A is killed
// (SIGKILL) while B keeps writing; a restarted A resumes the subscriber from its last cursor and
// nothing is lost.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { App } from "../../src/app.ts";
import { WAKEUP_CHANNEL } from "../../src/events/wakeups.ts";
import { engine, PLATFORM_KEY, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { startServer, type ServerProcess } from "../support/server-process.ts";
import {
  ConsentChangedLean,
  consentCursor,
  ledgerWriter,
  strictlyIncreasing,
  subscribe,
  until,
  type Delivered,
  type Feed,
  type Written,
} from "./support.ts";

const REDIS_URL = process.env.STREAM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const running = new Set<ServerProcess>();

async function startInstance(extra: Record<string, string>): Promise<ServerProcess> {
  const instance = await startServer(
    {
      NODE_ENV: "test",
      DATABASE_URL: inject("postgresUrl"),
      OPTGRAPH_ADMIN_KEY: PLATFORM_KEY,
      OPTGRAPH_STREAM_POLL_MS: "60000",
      OPTGRAPH_RATE_LIMIT_ADMIN: "0",
      OPTGRAPH_RATE_LIMIT_OPERATOR: "0",
      OPTGRAPH_RATE_LIMIT_PARTNER: "0",
      OPTGRAPH_RATE_LIMIT_VIEWER: "0",
      ...extra,
    },
    { readyTimeoutMs: 30_000 },
  );
  running.add(instance);
  return instance;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

describe.runIf(engine === "postgres")("two instances on one PostgreSQL", () => {
  let app: App;
  beforeAll(async () => {
    app = await testApp();
  });
  afterAll(async () => {
    await Promise.all([...running].map((instance) => instance.stop("SIGKILL")));
  });

  const ledgerOf = async (organizationId: string) =>
    (
      await app.db.prisma.consentEvent.findMany({
        where: { organizationId },
        select: { id: true, sequence: true },
        orderBy: { sequence: "asc" },
      })
    ).map((row) => ({ id: encodeGlobalID("ConsentEvent", row.id), sequence: row.sequence }));

  const modes: [string, Record<string, string>][] = [
    ["PostgreSQL NOTIFY", {}],
    ["Redis pub/sub", { REDIS_URL }],
  ];

  for (const [mode, extra] of modes) {
    it(
      `delivers B's writes to A's subscriber promptly and resumes after A is killed (${mode})`,
      { timeout: 180_000 },
      async () => {
        const [a, b] = await Promise.all([startInstance(extra), startInstance(extra)]);
        if (extra.REDIS_URL) {
          // the wake-ups really go through Redis: both instances subscribe to the channel
          const redis = new Redis(extra.REDIS_URL);
          try {
            await until(async () => {
              const [, count] = (await redis.pubsub("NUMSUB", WAKEUP_CHANNEL)) as [string, number];
              return count >= 2;
            }, "both instances to subscribe to the Redis wake-up channel");
          } finally {
            redis.disconnect();
          }
        }
        const org = await newOrganization();
        const campaign = await createCampaign(org.adminKey);
        const writer = ledgerWriter(b.base, org.adminKey, campaign.id);
        const open = (base: string, after: string) =>
          subscribe({
            transport: "ws",
            base,
            key: org.adminKey,
            document: ConsentChangedLean,
            variables: { after },
          });
        let second: Feed | undefined;
        const first = open(a.base, consentCursor(0));
        try {
          // warm-up: A's LISTEN / SUBSCRIBE connection may come up just after its ready line; a
          // missed wake-up is only caught up by the next one (the poll is a minute away)
          const warm = await writer.write(1);
          await until(
            async () => {
              if (first.items.length >= warm.length) return true;
              warm.push(...(await writer.write(1)));
              await new Promise((resolve) => setTimeout(resolve, 300));
              return first.items.length >= warm.length;
            },
            "A's subscriber to receive a warm-up event written through B",
            15_000,
            0,
          );
          await first.waitFor(warm.length);

          // latency: one write at a time through B, each awaited on A
          const latencies: number[] = [];
          for (let i = 0; i < 30; i++) {
            const index = first.items.length;
            const sent = performance.now();
            const [event] = await writer.write(1);
            await first.waitFor(index + 1, 15_000);
            expect(first.items[index].id).toBe(event.id);
            latencies.push(first.times[index] - sent);
          }
          // a burst of concurrent writes through B
          await writer.write(100);
          await first.waitFor(warm.length + 30 + 100, 60_000);

          // B keeps writing while A is killed, then restarted
          const written: Written[] = [];
          let writing = true;
          const background = (async () => {
            while (writing) written.push(...(await writer.write(10)));
          })();
          await until(() => written.length >= 50, "B to write 50 events in the background", 60_000);
          const sizeBeforeKill = first.items.length;
          await a.stop("SIGKILL");
          await until(() => first.ended, "A's subscriber to see its connection drop");
          const beforeKill = [...first.items];
          const restarted = await startInstance(extra);
          await until(() => written.length >= 150, "B to write 100 more events", 60_000);
          const last = beforeKill[beforeKill.length - 1];
          second = open(restarted.base, last.cursor);
          await new Promise((resolve) => setTimeout(resolve, 300));
          writing = false;
          await background;
          const ledger = await ledgerOf(org.rowId);
          const resumed = await second.waitFor(ledger.length - beforeKill.length, 90_000);
          await new Promise((resolve) => setTimeout(resolve, 100));

          const ids = (items: Delivered[]) => items.map((e) => e.id);
          expect(
            [...beforeKill, ...resumed].map((e) => ({ id: e.id, sequence: e.sequence })),
          ).toEqual(ledger);
          for (const items of [beforeKill, resumed]) {
            expect(new Set(ids(items)).size).toBe(items.length);
            expect(strictlyIncreasing(items.map((e) => e.sequence))).toBe(true);
          }
          expect(resumed[0].sequence).toBe(last.sequence + 1);
          // the poll is a minute away: only a wake-up delivers this fast (the bounds leave room
          // for a loaded machine; typical numbers are printed below)
          expect(percentile(latencies, 50)).toBeLessThan(1000);
          expect(percentile(latencies, 100)).toBeLessThan(10_000);
          console.log(
            `[multi-instance ${mode}] write-through-B → delivered-on-A latency over 30 sequential writes: ` +
              `p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, ` +
              `max ${percentile(latencies, 100).toFixed(1)} ms (poll 60 s); ` +
              `A killed after ${sizeBeforeKill} events, B wrote ${written.length} in the background, ` +
              `resumed ${resumed.length} on the restarted A; ledger ${ledger.length} = delivered, 0 lost`,
          );
          await restarted.stop();
        } finally {
          await first.close();
          await second?.close();
          await Promise.all([a.stop("SIGKILL"), b.stop()]);
        }
      },
    );
  }
});
