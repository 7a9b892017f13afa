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
import { localWakeups, type Wakeups } from "../../src/events/wakeups.ts";
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
        return rows;
      }
      if (gates.beforeReplayRead) await gates.beforeReplayRead(after, upTo);
      const rows = await real.read(organizationId, after, upTo, limit, filter);
      if (after === upTo) events.caughtUpAt.push(after);
      return rows;
    },
    matches: real.matches,
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
});
