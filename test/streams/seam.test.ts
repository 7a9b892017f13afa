// The replay → live hand-over, with its races forced instead of hoped for. The streams run on the
// real ledger (the worker's database, written through the API); the source they read is the real
// one with gates in front of chosen calls, so a test decides which of two reads lands first:
//   A. the tailer's first read of the head lands after a subscription already went live;
//   B. the tailer offers a new row while the subscription's last replay read is under way;
//   C. the tailer is behind and offers rows the subscription already replayed.
// In every case the subscription must deliver each row once, in order, with no gap.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/app.ts";
import {
  consentEventSource,
  type ConsentEventFilter,
  type ConsentEventRow,
} from "../../src/events/sources.ts";
import { LogStreams, type LogSource } from "../../src/events/streams.ts";
import { localWakeups, readWakeup, wakeupPayload, type Wakeups } from "../../src/events/wakeups.ts";
import { testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";
import { baseOf, ledgerWriter, until } from "./support.ts";

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
const deferred = (): Deferred => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The real consent source, with optional gates the test opens. */
function gatedSource(app: App) {
  const real = consentEventSource(app.db.prisma);
  const gates = {
    /** set just before `open`: the tailer's first head read runs once this resolves */
    tailerHead: null as Promise<void> | null,
    /** the tailer's next read (upTo null) runs once this resolves */
    tailerRead: null as Promise<void> | null,
    /** the tailer's next read returns once this resolves (what it read is then fixed) */
    tailerReadReturn: null as Promise<void> | null,
    /** runs before each replay read (upTo not null) while set; it may unset itself */
    beforeReplayRead: null as ((after: number, upTo: number) => Promise<void>) | null,
  };
  const events = { caughtUpAt: [] as number[], tailerReads: 0 };
  let tailerHeadNext = false;
  const source: LogSource<ConsentEventRow, ConsentEventFilter> = {
    async head(organizationId) {
      if (tailerHeadNext) {
        tailerHeadNext = false;
        const gate = gates.tailerHead;
        gates.tailerHead = null;
        if (gate) await gate;
      }
      return real.head(organizationId);
    },
    async read(organizationId, after, upTo, limit, filter) {
      if (upTo === null) {
        const gate = gates.tailerRead;
        gates.tailerRead = null;
        if (gate) await gate;
        const rows = await real.read(organizationId, after, upTo, limit, filter);
        events.tailerReads++;
        const returning = gates.tailerReadReturn;
        gates.tailerReadReturn = null;
        if (returning) await returning;
        return rows;
      }
      if (gates.beforeReplayRead) await gates.beforeReplayRead(after, upTo);
      const rows = await real.read(organizationId, after, upTo, limit, filter);
      if (after === upTo) events.caughtUpAt.push(after);
      return rows;
    },
    matches: real.matches,
    headIn: real.headIn,
    rowsIn: real.rowsIn,
  };
  return {
    source,
    gates,
    events,
    /** the next head read is the tailer's (LogStreams.open wakes a new tailer synchronously) */
    expectTailerHead: () => (tailerHeadNext = true),
  };
}

function consume(iterator: AsyncIterableIterator<ConsentEventRow>) {
  const sequences: number[] = [];
  const errors: unknown[] = [];
  void (async () => {
    try {
      for await (const row of iterator) sequences.push(row.sequence);
    } catch (error) {
      errors.push(error);
    }
  })();
  return { sequences, errors };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("the replay → live hand-over under forced interleavings", () => {
  let app: App;
  let wakeups: Wakeups;
  let streams: LogStreams<ConsentEventRow, ConsentEventFilter> | undefined;
  beforeAll(async () => {
    app = await testApp();
  });
  afterEach(async () => {
    streams?.close();
    streams = undefined;
    await wakeups?.close();
  });

  /** An organization whose ledger has `count` events, and a writer for more. */
  async function ledgerWith(count: number) {
    const org = await newOrganization();
    const campaign = await createCampaign(org.adminKey);
    const writer = ledgerWriter(baseOf(app), org.adminKey, campaign.id, 1);
    await writer.write(count);
    return { org, write: () => writer.write(1) };
  }

  function start(gated: ReturnType<typeof gatedSource>) {
    wakeups = localWakeups();
    streams = new LogStreams(gated.source, wakeups, {
      bufferSize: 1000,
      // no poll to the rescue: only wake-ups, which the test sends
      pollIntervalMs: 600_000,
      onError: () => undefined,
    });
    return streams;
  }

  const filter: ConsentEventFilter = { campaignIds: null };

  /**
   * A ledger of three rows, a subscription that replayed them and went live, and the number of
   * reads its tailer made to get there.
   */
  async function liveAfterThree() {
    const { org, write } = await ledgerWith(3);
    const gated = gatedSource(app);
    const logs = start(gated);
    const sub = consume(logs.open(org.rowId, 0, filter));
    await until(() => sub.sequences.length === 3, "1..3 replayed");
    await until(() => gated.events.tailerReads > 0, "the tailer to read from the head");
    await tick();
    return { org, write, gated, sub, reads: gated.events.tailerReads };
  }

  it("A: a tailer whose first head read lands after the subscription went live skips nothing", async () => {
    const { org, write } = await ledgerWith(10);
    const gated = gatedSource(app);
    const logs = start(gated);
    const tailerHead = deferred();
    gated.gates.tailerHead = tailerHead.promise;
    gated.expectTailerHead();
    const sub = consume(logs.open(org.rowId, 5, filter));
    await until(() => gated.events.caughtUpAt.includes(10), "the replay to catch up at 10");
    await until(() => sub.sequences.length === 5, "6..10 replayed");
    await tick();
    // the subscription is live at 10; row 11 commits before the tailer learns the head
    await write();
    tailerHead.resolve();
    await until(() => gated.events.tailerReads > 0, "the tailer to read");
    await write();
    wakeups.publish(org.rowId);
    await until(() => sub.sequences.includes(12), "row 12 live", 5000).catch(() => undefined);
    expect(sub.errors).toEqual([]);
    expect(sub.sequences).toEqual(range(6, 12));
  });

  it("B: a row the tailer offers during the last replay read is read from the log", async () => {
    const { org, write } = await ledgerWith(10);
    const gated = gatedSource(app);
    const logs = start(gated);
    gated.gates.beforeReplayRead = async (after, upTo) => {
      if (after !== 10 || upTo !== 10) return;
      gated.gates.beforeReplayRead = null;
      // row 11 commits after the replay read the head (10); the tailer offers it before the
      // replay's read of (10, 10] returns
      const reads = gated.events.tailerReads;
      await write();
      wakeups.publish(org.rowId);
      await until(() => gated.events.tailerReads > reads, "the tailer to read row 11");
      await tick();
    };
    const sub = consume(logs.open(org.rowId, 5, filter));
    await until(() => sub.sequences.length >= 6, "6..11", 5000).catch(() => undefined);
    await write();
    wakeups.publish(org.rowId);
    await until(() => sub.sequences.includes(12), "row 12 live", 5000).catch(() => undefined);
    expect(sub.errors).toEqual([]);
    expect(sub.sequences).toEqual(range(6, 12));
  });

  it("C: rows a lagging tailer offers after the subscription replayed them are not repeated", async () => {
    const { org, write } = await ledgerWith(10);
    const gated = gatedSource(app);
    const logs = start(gated);
    const tailerRead = deferred();
    gated.gates.tailerRead = tailerRead.promise;
    // row 11 commits while the tailer's first read is held, before the replay's first read:
    // the replay delivers 6..11 and goes live at 11
    gated.gates.beforeReplayRead = async (after) => {
      if (after !== 5) return;
      gated.gates.beforeReplayRead = null;
      await write();
      wakeups.publish(org.rowId);
    };
    const sub = consume(logs.open(org.rowId, 5, filter));
    await until(() => sub.sequences.includes(11), "row 11 replayed");
    await until(() => gated.events.caughtUpAt.includes(11), "the replay to catch up at 11");
    await tick();
    // now the tailer reads (10, ∞) and offers 11 again
    tailerRead.resolve();
    await until(() => gated.events.tailerReads > 0, "the tailer to read");
    await write();
    wakeups.publish(org.rowId);
    await until(() => sub.sequences.includes(12), "row 12 live", 5000);
    await tick();
    expect(sub.errors).toEqual([]);
    expect(sub.sequences).toEqual(range(6, 12));
  });

  it("D: a commit heard twice (its own wake-up, then heard back) is read once; a wake-up of no head is read", async () => {
    const { org, write, gated, sub, reads } = await liveAfterThree();
    // a wake-up that tells of rows the tailer has read: nothing to read
    wakeups.publish(org.rowId, { ledger: 3 });
    await tick();
    await tick();
    expect(gated.events.tailerReads).toBe(reads);
    // row 4's wake-up, and the same one heard back while its read is under way: one read
    const held = deferred();
    gated.gates.tailerRead = held.promise;
    await write();
    wakeups.publish(org.rowId, { ledger: 4 });
    wakeups.publish(org.rowId, { ledger: 4 });
    held.resolve();
    await until(() => sub.sequences.includes(4), "row 4 live");
    await tick();
    await tick();
    expect(gated.events.tailerReads).toBe(reads + 1);
    // a wake-up that tells no head (an older instance's) is read
    wakeups.publish(org.rowId);
    await until(() => gated.events.tailerReads === reads + 2, "a read for a wake-up of no head");
    expect(sub.errors).toEqual([]);
    expect(sub.sequences).toEqual(range(1, 4));
  });

  it("E: rows this instance committed are offered as they are when they continue from the tailer; after a gap the log is read", async () => {
    const { org, write, gated, sub, reads } = await liveAfterThree();
    const real = consentEventSource(app.db.prisma);
    const rowsOf = (from: number, to: number) => real.read(org.rowId, from - 1, to, 100, null);
    // row 4, as its commit hands it over: offered without a read
    await write();
    wakeups.publish(org.rowId, { ledger: 4 }, { ledger: await rowsOf(4, 4) });
    await until(() => sub.sequences.includes(4), "row 4 live");
    await tick();
    await tick();
    expect(gated.events.tailerReads).toBe(reads);
    // rows 5 and 6 committed, only 6 handed over (5 came from elsewhere): the log is read
    await write();
    await write();
    wakeups.publish(org.rowId, { ledger: 6 }, { ledger: await rowsOf(6, 6) });
    await until(() => sub.sequences.includes(6), "rows 5 and 6 live");
    expect(gated.events.tailerReads).toBe(reads + 1);
    // rows handed over while the tailer is busy are kept for its next turn, in order
    const held = deferred();
    gated.gates.tailerReadReturn = held.promise;
    await write();
    wakeups.publish(org.rowId); // a wake-up of no head: a read (of row 7), held
    await until(() => gated.events.tailerReads === reads + 2, "the read of row 7");
    await write();
    await write();
    const [row8, row9] = await rowsOf(8, 9);
    wakeups.publish(org.rowId, { ledger: 8 }, { ledger: [row8] });
    wakeups.publish(org.rowId, { ledger: 9 }, { ledger: [row9] });
    held.resolve();
    await until(() => sub.sequences.includes(9), "rows 7 to 9 live");
    await tick();
    await tick();
    expect(gated.events.tailerReads).toBe(reads + 2);
    expect(sub.errors).toEqual([]);
    expect(sub.sequences).toEqual(range(1, 9));
  });
});

describe("wake-up payloads", () => {
  const id = "019acb6e-0000-7000-8000-000000000001";
  it("carry the heads a commit knows, and a bare id (an older instance's) knows none", () => {
    expect(wakeupPayload(id)).toBe(id);
    expect(readWakeup(id)).toEqual({ organizationId: id, heads: {} });
    for (const heads of [{ ledger: 12 }, { keywords: 4 }, { ledger: 0, keywords: 7 }]) {
      expect(readWakeup(wakeupPayload(id, heads))).toEqual({ organizationId: id, heads });
    }
    // what is no head is none (a reader then reads)
    for (const bad of [`${id} x `, `${id} -1 `, `${id} 1.5 `, `${id} 1e400 `]) {
      expect(readWakeup(bad).heads.ledger).toBeUndefined();
    }
  });
});
