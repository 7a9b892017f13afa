// Live streams read from the logs themselves (the ledger, the inbound-message log), never from a
// side channel. One tailer per organization and log reads each new row once for every
// subscription of this instance; each subscription first replays what was committed after its
// cursor, then goes live, with no gap and no duplicate at the seam, in sequence order. Sequences
// are gap-free in commit order per organization (src/services/ledger.ts), so "every row after n"
// never skips one that commits later. A subscription's buffer is bounded: a consumer that falls
// behind by more than that is failed with SLOW_CONSUMER and resumes with `after`.
// The ledger rows this instance's own writer just committed are handed to its tailer with the
// wake-up, as the table gives them back (src/services/ledger.ts): the tailer takes them in place
// of reading them again only when they continue exactly from its position (the next sequence on,
// no gap), and reads the log otherwise. Either way a subscriber gets the ledger's rows in the
// ledger's order; the hand-over saves a round trip and a query per commit on the loop that also
// delivers, and the writer's next statements go out before the pass (docs/BENCHMARKS.md).
// A row is offered to a tailer's subscriptions a chunk at a time, with a turn of the event loop
// between chunks: delivering to many subscribers never holds the process for long (about 20 ms),
// so requests (the writes that make the rows among them) go on being served meanwhile. Rows read
// together are offered a few at a time, each socket's frames for them sent in one write.
import { setImmediate as nextTurn } from "node:timers/promises";
import { DomainError } from "../domain/errors.ts";
import type { CommittedRows, LogHeads, Wakeups } from "./wakeups.ts";

export interface Sequenced {
  sequence: number;
}

/** Where a log's rows come from. */
export interface LogSource<Row extends Sequenced, Filter> {
  /** the organization's highest committed sequence */
  head(organizationId: string): Promise<number>;
  /** rows with after < sequence ≤ upTo (all when upTo is null) in sequence order, matching `filter` when given */
  read(
    organizationId: string,
    after: number,
    upTo: number | null,
    limit: number,
    filter: Filter | null,
  ): Promise<Row[]>;
  matches(row: Row, filter: Filter): boolean;
  /** this log's head among a wake-up's heads, when the commit told it */
  headIn(heads: LogHeads): number | undefined;
  /**
   * this log's rows among those this instance committed, as `read` would return them, when they
   * can be taken without reading them back (rows that never change after their commit)
   */
  rowsIn(committed: CommittedRows): readonly Row[] | undefined;
}

/**
 * A consumer that can take a live row at once, while its subscription is idle (its last row
 * handed over, the next one awaited): the tailer offers a row to every subscription in one pass,
 * so a row's writes to many sockets go out together rather than one promise chain each.
 */
export interface DirectSink<Row> {
  /**
   * What must be ready before `row` can be taken at once (a shared result: the same handle for
   * every subscription that shares it, so the tailer awaits it once), or null.
   */
  prepare(row: Row): Prepared | null;
  /** takes `row` at once once `prepared` is ready, or answers false (then it is handed over as usual) */
  take(row: Row, prepared: Prepared): boolean;
  /**
   * The tailer is about to offer several rows in a row: what `take` writes may be held and sent
   * together at `release` (one system call and one packet for them all, not one per row).
   */
  gather(): void;
  release(): void;
}

export interface Prepared {
  readonly ready: Promise<unknown>;
}

export class SlowConsumerError extends DomainError {
  constructor(readonly resumeAfter: number) {
    super(
      "RATE_LIMITED",
      "This subscription fell too far behind and was closed; subscribe again with `after` set to the last cursor you received.",
      { details: { reason: "SLOW_CONSUMER" } },
    );
  }
}

const PAGE = 200;
/**
 * Subscriptions offered a row between two turns of the event loop. Idle subscriptions write their
 * frame in the pass itself (DirectSink), so a chunk is that many socket writes, ~15-25 µs each on
 * 2 cores: ~20 ms at most without a turn, about one garbage collection. One pass per event for up
 * to a thousand subscribers lets each client's reads batch; 64 per turn measured slower at every
 * percentile, with no refused write either way (docs/BENCHMARKS.md).
 */
const OFFER_CHUNK = 1024;
/**
 * Rows read together (a backlog, a batch committed at once) are offered in runs of at most this
 * many, each run's writes gathered per socket: a subscriber gets them in one write instead of one
 * each, so a backlog costs less per event than live traffic and clears instead of growing. Small,
 * so the first row of a run waits little for the others and little is held at once: at 1,000
 * subscribers, runs of 16 took the fan-out bench's peak memory from ~270 to ~345 MB; runs of 4
 * kept it at ~270 and delivered bursts 1.5× the raw `ws` baseline (docs/BENCHMARKS.md).
 */
const GATHER_ROWS = 4;

class Subscription<Row extends Sequenced, Filter> implements AsyncIterableIterator<Row> {
  private queue: Row[] = [];
  private waiting: ((value: IteratorResult<Row>) => void) | null = null;
  private failing: ((error: unknown) => void) | null = null;
  private mode: "replay" | "live" | "done" = "replay";
  /** highest sequence handed to (or consciously skipped for) this consumer */
  private watermark: number;
  /** highest sequence the tailer offered while replaying (those rows are re-read from the log) */
  private offeredDuringReplay = 0;
  private failure: unknown = null;
  private replayPage: Row[] = [];
  private sink: DirectSink<Row> | null = null;
  /** the row the sink prepared for in the tailer's current pass, and its handle */
  private preparedRow: Row | null = null;
  private prepared: Prepared | null = null;

  constructor(
    private readonly source: LogSource<Row, Filter>,
    private readonly organizationId: string,
    after: number,
    private readonly filter: Filter,
    private readonly bufferSize: number,
    private readonly onEnd: (subscription: Subscription<Row, Filter>) => void,
    private readonly onOverflow: () => void,
    private readonly tailer: Tailer<Row, Filter>,
  ) {
    this.watermark = after;
  }

  /** Lets `sink` take live rows at once while this subscription is idle. */
  attachSink(sink: DirectSink<Row>) {
    this.sink = sink;
  }

  /** The sink that takes rows at once, when the subscription has one. */
  get directSink(): DirectSink<Row> | null {
    return this.sink;
  }

  /** Whether `row` is one this subscription would hand over now: live, new, and matching. */
  private wants(row: Row): boolean {
    return (
      this.mode === "live" && row.sequence > this.watermark && this.source.matches(row, this.filter)
    );
  }

  /** What the sink needs ready to take `row` at once, started early (no state of the offer's). */
  warm(row: Row): Prepared | null {
    if (!this.sink || !this.waiting || !this.wants(row)) return null;
    return this.sink.prepare(row);
  }

  /** Called by the tailer before `offer`: what the sink needs ready to take `row` at once. */
  prepare(row: Row): Prepared | null {
    this.prepared = this.warm(row);
    this.preparedRow = this.prepared ? row : null;
    return this.prepared;
  }

  /** Called by the tailer, synchronously, for every new row of the organization. */
  offer(row: Row) {
    if (this.mode === "done") return;
    if (this.mode === "replay") {
      this.offeredDuringReplay = Math.max(this.offeredDuringReplay, row.sequence);
      return;
    }
    if (row.sequence <= this.watermark) return;
    this.watermark = row.sequence;
    // prepared for this row: it matched (a row's match does not change)
    const prepared = this.preparedRow === row ? this.prepared : null;
    this.preparedRow = this.prepared = null;
    if (prepared === null && !this.source.matches(row, this.filter)) return;
    // idle (nothing in flight, nothing queued): the sink may take it in this pass, in order
    if (prepared !== null && this.waiting && this.sink!.take(row, prepared)) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failing = null;
      resolve({ value: row, done: false });
      return;
    }
    if (this.queue.length >= this.bufferSize) {
      this.fail(new SlowConsumerError(this.queue[0].sequence - 1));
      this.onOverflow();
      return;
    }
    this.queue.push(row);
  }

  private fail(error: unknown) {
    this.failure = error;
    this.queue = [];
    this.finish();
    if (this.failing) {
      const reject = this.failing;
      this.waiting = this.failing = null;
      reject(error);
    }
  }

  private finish() {
    if (this.mode === "done") return;
    this.mode = "done";
    this.onEnd(this);
  }

  /** Next replayed row, reading the log page by page; null once caught up (then live). */
  private async nextReplayed(): Promise<Row | null> {
    for (;;) {
      if (this.replayPage.length > 0) {
        const row = this.replayPage.shift()!;
        this.watermark = row.sequence;
        return row;
      }
      const head = await this.source.head(this.organizationId);
      const page = await this.source.read(
        this.organizationId,
        this.watermark,
        head,
        PAGE,
        this.filter,
      );
      if (this.mode === "done") return null;
      if (page.length === PAGE) {
        this.replayPage = page;
        continue;
      }
      this.replayPage = page;
      if (page.length > 0) continue;
      // Everything through `head` is delivered. Rows the tailer offered meanwhile beyond it are
      // committed, so another read finds them; otherwise go live from `head`.
      this.watermark = Math.max(this.watermark, head);
      if (this.offeredDuringReplay > head) continue;
      // Live rows come from the tailer, which offers only rows after its own position. A new
      // tailer learns that position from its own read of the head, which may land after this
      // replay's: go live only once the position is known and not beyond what was replayed.
      const position = this.tailer.position;
      if (position === null) {
        await this.tailer.started();
        continue;
      }
      if (position > this.watermark) continue;
      this.mode = "live";
      return null;
    }
  }

  async next(): Promise<IteratorResult<Row>> {
    if (this.mode === "replay") {
      try {
        const row = await this.nextReplayed();
        if (row) return { value: row, done: false };
      } catch (error) {
        this.fail(error);
      }
    }
    if (this.queue.length > 0) return { value: this.queue.shift()!, done: false };
    if (this.failure) {
      const error = this.failure;
      this.failure = null;
      throw error;
    }
    if (this.mode === "done") return { value: undefined, done: true };
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failing = reject;
    });
  }

  async return(): Promise<IteratorResult<Row>> {
    this.queue = [];
    this.finish();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failing = null;
      resolve({ value: undefined, done: true });
    }
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<Row>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** Reads one organization's new rows of one log and offers them to its subscriptions. */
class Tailer<Row extends Sequenced, Filter> {
  readonly subscriptions = new Set<Subscription<Row, Filter>>();
  private cursor: number | null = null;
  private reading = false;
  /**
   * The furthest head the wake-ups not yet acted on told of (Infinity when one told none), or null
   * when none came.
   */
  private wokenUpTo: number | null = null;
  /** rows this instance committed, kept until the tailer's next turn (see wake) */
  private committed: Row[] = [];
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly source: LogSource<Row, Filter>,
    private readonly organizationId: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** the last sequence this tailer read, or null before its first read */
  get position(): number | null {
    return this.cursor;
  }

  /** Settles once the tailer has read the head (or tried to: errors go to onError). */
  started(): Promise<void> {
    if (this.cursor === null && !this.reading) this.wake();
    return this.running;
  }

  /**
   * Reads the new rows; `upTo`, when known, is where the commit that woke it left the log, and
   * `rows`, when given, are that commit's rows (this instance's own, as the log holds them): those
   * that continue exactly where the tailer is are offered without reading them back.
   */
  wake(upTo?: number, rows?: readonly Row[]) {
    // rows it has read already (its own instance's commit, heard back): nothing to read
    if (upTo !== undefined && this.cursor !== null && upTo <= this.cursor) return;
    if (rows && rows.length > 0) this.keep(rows);
    this.wokenUpTo = Math.max(this.wokenUpTo ?? 0, upTo ?? Infinity);
    if (this.reading) return;
    this.reading = true;
    this.running = this.readNewRows().finally(() => {
      this.reading = false;
    });
  }

  /** Keeps a commit's rows for the next turn, while they run on from the ones kept before. */
  private keep(rows: readonly Row[]) {
    const last = this.committed.at(-1);
    if (last && last.sequence + 1 === rows[0].sequence && this.committed.length < PAGE) {
      this.committed.push(...rows);
    } else this.committed = [...rows];
  }

  /** The kept rows that continue from the cursor without a gap (none: the log is read instead). */
  private takeCommitted(): Row[] {
    const rows = this.committed;
    this.committed = [];
    const start = rows.findIndex((row) => row.sequence > this.cursor!);
    if (start < 0 || rows[start].sequence !== this.cursor! + 1) return [];
    let end = start + 1;
    while (end < rows.length && rows[end].sequence === rows[end - 1].sequence + 1) end++;
    return rows.slice(start, end);
  }

  private async readNewRows() {
    try {
      do {
        const target = this.wokenUpTo ?? Infinity;
        this.wokenUpTo = null;
        if (this.cursor === null) this.cursor = await this.source.head(this.organizationId);
        const committed = this.takeCommitted();
        if (committed.length > 0) {
          // the writer that committed them sends its next statements first, then they are offered
          await nextTurn();
          await this.offerRows(committed);
          // a wake-up told of no more than these: nothing to read
          if (target <= this.cursor) continue;
        }
        for (;;) {
          const rows = await this.source.read(this.organizationId, this.cursor, null, PAGE, null);
          await this.offerRows(rows);
          if (rows.length < PAGE) break;
        }
        // a wake-up meanwhile only for rows read since (its own commit, heard back) reads nothing
      } while (this.wokenUpTo !== null && this.wokenUpTo > (this.cursor ?? -1));
    } catch (error) {
      this.onError(error);
    }
  }

  /** Offers rows read together a few at a time (each run's writes gathered per socket). */
  private async offerRows(rows: readonly Row[]) {
    for (let start = 0; start < rows.length; start += GATHER_ROWS) {
      await this.offerRun(rows.slice(start, start + GATHER_ROWS));
    }
  }

  /**
   * Offers `rows` in order; with more than one, each sink's writes go out together at the end. The
   * rows' shared results are computed first, so the writes are held only while the frames are
   * built (no I/O in between): nothing waits long, and no held frame outlives a young collection.
   */
  private async offerRun(rows: Row[]) {
    const gathering: DirectSink<Row>[] = [];
    if (rows.length > 1) {
      const ready = new Set<Promise<unknown>>();
      for (const row of rows) {
        for (const subscription of this.subscriptions) {
          const prepared = subscription.warm(row);
          if (prepared) ready.add(prepared.ready);
        }
      }
      await Promise.allSettled(ready);
      for (const subscription of this.subscriptions) {
        const sink = subscription.directSink;
        if (sink) {
          sink.gather();
          gathering.push(sink);
        }
      }
    }
    try {
      for (const row of rows) {
        this.cursor = row.sequence;
        await this.offer(row);
      }
    } finally {
      for (const sink of gathering) sink.release();
    }
  }

  /**
   * Offers `row` to every subscription, yielding to the event loop after each chunk (what a chunk
   * set off, up to its sockets' writes, runs before the turn). A subscription that joins meanwhile
   * is offered it too (while it replays, that only tells it to read on); one that ends is skipped.
   */
  private async offer(row: Row) {
    // what the subscriptions' sinks need first (one shared result for many), together
    let ready: Set<Prepared> | null = null;
    for (const subscription of this.subscriptions) {
      const prepared = subscription.prepare(row);
      if (prepared) (ready ??= new Set()).add(prepared);
    }
    if (ready) await Promise.allSettled(Array.from(ready, (prepared) => prepared.ready));
    let offered = 0;
    for (const subscription of this.subscriptions) {
      subscription.offer(row);
      if (++offered % OFFER_CHUNK === 0) await nextTurn();
    }
  }
}

export interface StreamOptions {
  /** rows a live subscription may hold for a slow consumer before it is failed */
  bufferSize: number;
  /** how often tailers look for rows even without a wake-up */
  pollIntervalMs: number;
  onError: (error: unknown) => void;
}

/** The streams of one log (consent events or keyword events) for this instance. */
export class LogStreams<Row extends Sequenced, Filter> {
  private readonly tailers = new Map<string, Tailer<Row, Filter>>();
  private readonly unsubscribe: () => void;
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly source: LogSource<Row, Filter>,
    wakeups: Wakeups,
    private readonly options: StreamOptions,
  ) {
    this.unsubscribe = wakeups.subscribe((organizationId, heads, committed) =>
      this.tailers
        .get(organizationId)
        ?.wake(source.headIn(heads), committed && source.rowsIn(committed)),
    );
    this.poll = setInterval(
      () => this.tailers.forEach((tailer) => tailer.wake()),
      options.pollIntervalMs,
    );
    this.poll.unref();
  }

  /** The organization's current head, as a starting point for a subscription without `after`. */
  head(organizationId: string) {
    return this.source.head(organizationId);
  }

  /**
   * A stream of the organization's rows after `after` that match `filter`: first the committed
   * ones, then live ones as they commit.
   */
  open(
    organizationId: string,
    after: number,
    filter: Filter,
    onOverflow: () => void = () => undefined,
  ): AsyncIterableIterator<Row> {
    let tailer = this.tailers.get(organizationId);
    if (!tailer) {
      tailer = new Tailer(this.source, organizationId, this.options.onError);
      this.tailers.set(organizationId, tailer);
    }
    const owner = tailer;
    const subscription = new Subscription(
      this.source,
      organizationId,
      after,
      filter,
      this.options.bufferSize,
      (ended) => {
        owner.subscriptions.delete(ended);
        if (owner.subscriptions.size === 0 && this.tailers.get(organizationId) === owner) {
          this.tailers.delete(organizationId);
        }
      },
      onOverflow,
      owner,
    );
    owner.subscriptions.add(subscription);
    owner.wake();
    return subscription;
  }

  /** Subscriptions open on this instance (for metrics and leak tests). */
  get size(): number {
    let total = 0;
    for (const tailer of this.tailers.values()) total += tailer.subscriptions.size;
    return total;
  }

  /** How many committed rows the furthest-behind tailer has not read yet. */
  async maxLag(): Promise<number> {
    let lag = 0;
    for (const [organizationId, tailer] of this.tailers) {
      if (tailer.position === null) continue;
      lag = Math.max(lag, (await this.source.head(organizationId)) - tailer.position);
    }
    return lag;
  }

  close() {
    clearInterval(this.poll);
    this.unsubscribe();
    for (const tailer of this.tailers.values()) {
      for (const subscription of tailer.subscriptions) void subscription.return();
    }
    this.tailers.clear();
  }
}
