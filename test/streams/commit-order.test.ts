// PostgreSQL commits concurrent transactions in any order; a tailer that reads "rows after my
// cursor" would skip a row committed late with a lower sequence. The ledger lock makes sequences
// commit-ordered: here a separate connection holds that lock (the organization row, FOR UPDATE)
// while writes pile up behind it, then lets go. Every snapshot of the ledger taken meanwhile is a
// gap-free prefix, and the subscriber gets every event once, in sequence order, with no gap — so
// no event that committed later carries a lower sequence than one already delivered.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { App } from "../../src/app.ts";
import { engine, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import {
  baseOf,
  ConsentChangedLean,
  ledgerWriter,
  must,
  opened,
  phoneAt,
  strictlyIncreasing,
} from "./support.ts";
import { OptIn } from "../support/documents.ts";

describe.runIf(engine === "postgres")("commit order on PostgreSQL", () => {
  let app: App;
  let base: string;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const client = new pg.Client({ connectionString: inject("postgresUrl") });
    await client.connect();
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    app = await testApp();
    base = baseOf(app);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  });

  for (const release of ["ROLLBACK", "COMMIT"] as const) {
    it(`delivers writes queued behind a held ledger lock in order, no gap (lock released by ${release})`, async () => {
      const org = await newOrganization();
      const other = await newOrganization();
      const campaign = await createCampaign(org.adminKey);
      const otherCampaign = await createCampaign(other.adminKey);
      const feed = await opened(app, "consentEvents", {
        transport: "ws",
        base,
        key: org.adminKey,
        document: ConsentChangedLean,
        variables: {},
      });
      const otherFeed = await opened(app, "consentEvents", {
        transport: "ws",
        base,
        key: other.adminKey,
        document: ConsentChangedLean,
        variables: {},
      });
      const holder = await connect();
      const watcher = await connect();
      try {
        await ledgerWriter(base, org.adminKey, campaign.id, 5).write(5);
        await feed.waitFor(5);

        await holder.query("BEGIN");
        await holder.query(`SELECT id FROM "Organization" WHERE id = $1 FOR UPDATE`, [org.rowId]);

        // writes to distinct numbers start now and wait behind the lock. Each waiter holds a pool
        // connection (DB_POOL_MAX, 10 by default), so stay below it: beyond it every other
        // organization's requests would wait for a connection too.
        const QUEUED = 8;
        const responded: number[] = [];
        const queued = Promise.all(
          Array.from({ length: QUEUED }, async (_, i) => {
            const d = await must(base, org.adminKey, OptIn, {
              input: { phone: phoneAt(30 + i), campaignId: campaign.id, method: "API" },
            });
            responded.push(d.optIn.event!.sequence);
            return d.optIn.event!;
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(responded).toEqual([]);
        expect(feed.items).toHaveLength(5);

        // another organization's ledger is not held up
        await ledgerWriter(base, other.adminKey, otherCampaign.id, 3).write(3);
        expect((await otherFeed.waitFor(3, 3000)).map((e) => e.sequence)).toEqual([1, 2, 3]);

        // watch the ledger from outside while the queue drains: every snapshot is 1..max
        const snapshots: { n: number; max: number }[] = [];
        let draining = true;
        const watching = (async () => {
          while (draining) {
            const { rows } = await watcher.query<{ n: number; max: number }>(
              `SELECT count(*)::int AS n, coalesce(max(sequence), 0)::int AS max
                 FROM "ConsentEvent" WHERE "organizationId" = $1`,
              [org.rowId],
            );
            snapshots.push(rows[0]);
          }
        })();
        await holder.query(release);
        const written = await queued;
        draining = false;
        await watching;

        const items = await feed.waitFor(5 + QUEUED, 30_000);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const sequences = items.map((e) => e.sequence);
        expect(sequences).toEqual(Array.from({ length: 5 + QUEUED }, (_, i) => i + 1));
        expect(strictlyIncreasing(sequences)).toBe(true);
        expect(new Set(items.slice(5).map((e) => e.id))).toEqual(new Set(written.map((e) => e.id)));
        expect(snapshots.length).toBeGreaterThan(0);
        expect(snapshots.filter((s) => s.n !== s.max)).toEqual([]);
        expect(otherFeed.items).toHaveLength(3);
        console.log(
          `[commit order ${release}] ${QUEUED} writes queued behind the lock; ${snapshots.length} ledger snapshots while draining, all gap-free; delivered ${sequences.join(",")}`,
        );
      } finally {
        await holder.query("ROLLBACK").catch(() => undefined);
        await Promise.all([feed.close(), otherFeed.close()]);
      }
    });
  }
});
