// What canSend and canSendMany need, held in memory per organization, so a decision costs no
// database round trip: each number's subscriber (id, stored time zone) and consents, and the
// campaigns' status and purpose. Least recently used organizations are dropped past a bound in
// consents; an organization idle for IDLE_MS is dropped too.
//
// Kept current like the live streams (src/events/streams.ts): a commit's wake-up tells every
// instance to read the ledger after its cursor. A wake-up marks the organization unconfirmed at
// once, and the next read catches up (the consents the new events touched, in one statement).
// The ledger writer also hands its committed consents straight to this instance's cache
// (`committed`), before the request's answer goes out. Campaign and subscriber changes are no
// ledger events: triggers move the organization's campaignRevision and subscriberRevision in the
// same transaction, and a revision this cache has not seen reloads what it holds.
//
// The cache answers only while it can vouch for being current, else the caller reads the
// database: the organization is loaded; no wake-up arrived since its last confirmation of the
// organization's head (ledger sequence and revisions); that confirmation began after the wake-up
// channel last (re)connected; and it began at most `freshnessMs` ago. Organizations in use are
// confirmed again every freshnessMs / 2 with one query for all of them, so a lost wake-up leaves
// an instance behind for at most freshnessMs.
import { LRUCache } from "lru-cache";
import type { PreparedRead } from "../db/client.ts";
import type { Wakeups } from "../events/wakeups.ts";
import type { ConsentSnapshot } from "./consent-snapshot.ts";
import type { LedgerOutcome } from "./ledger-batch.ts";
import {
  loadSnapshot,
  readCampaigns,
  readChanges,
  readHeads,
  type CampaignFacts,
  type Head,
} from "./send-cache-reads.ts";
import type { ConsentRow } from "./send-decisions.ts";

export interface SendCacheOptions {
  enabled: boolean;
  /** consents held at most, over all organizations (an organization with more is never held) */
  maxConsents: number;
  /** how long a confirmation of an organization's head lets the cache answer for it */
  freshnessMs: number;
}

/** A decision's inputs: the campaign, and each number's consent and stored time zone. */
export interface SendInputs {
  campaign: CampaignFacts;
  entries: { consent: ConsentRow | null; timezone: string | null; state: string | null }[];
}

/** An organization not asked about for this long is dropped. */
const IDLE_MS = 10 * 60_000;
/** More new ledger events than this: load again rather than read what each touched. */
const RELOAD_AFTER = 50_000;
/** An organization too large to hold is tried again after this long. */
const TOO_LARGE_RETRY_MS = 10 * 60_000;

class Held {
  snapshot: ConsentSnapshot | null = null;
  campaigns: Map<string, CampaignFacts> | null = null;
  /** every ledger event up to this sequence is in the snapshot */
  cursor = 0;
  campaignRevision = -1;
  subscriberRevision = -1;
  /** wake-ups heard, and how many of them the last confirmation covers */
  wakes = 0;
  confirmedWakes = -1;
  /** when (performance.now()) the last confirmed head read began */
  confirmedAt = -Infinity;
  loading = false;
  syncing = false;
  again = false;
  tooLargeUntil = 0;
}

export class SendCache {
  private readonly held: LRUCache<string, Held>;
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout | undefined;
  /** decisions answered from memory, and those that read the database instead */
  readonly counts = { answered: 0, fellBack: 0 };

  constructor(
    private readonly read: PreparedRead,
    private readonly wakeups: Wakeups,
    private readonly options: SendCacheOptions,
    private readonly onError: (error: unknown) => void,
  ) {
    this.held = new LRUCache<string, Held>({
      maxSize: Math.max(1, options.maxConsents),
      sizeCalculation: (entry) => Math.max(1, entry.snapshot?.size ?? 0),
      ttl: IDLE_MS,
      updateAgeOnGet: true,
    });
    this.unsubscribe = options.enabled
      ? wakeups.subscribe((organizationId) => {
          const entry = this.held.peek(organizationId);
          if (!entry) return;
          entry.wakes += 1;
          this.sync(organizationId, entry);
        })
      : () => undefined;
    if (options.enabled) {
      this.heartbeat = setInterval(
        () => void this.confirmAll().catch(this.onError),
        Math.max(1, Math.floor(options.freshnessMs / 2)),
      );
      this.heartbeat.unref();
    }
  }

  /**
   * The inputs of a decision from memory, or null when the cache cannot vouch for them (the caller
   * reads the database; the cache catches up meanwhile).
   */
  inputs(organizationId: string, campaignId: string, phones: readonly string[]): SendInputs | null {
    if (!this.options.enabled) return null;
    let entry = this.held.get(organizationId);
    if (!entry) {
      entry = new Held();
      this.held.set(organizationId, entry);
    }
    const campaign = this.vouches(entry) ? entry.campaigns!.get(campaignId) : undefined;
    if (!campaign) {
      this.counts.fellBack += 1;
      if (!entry.syncing && performance.now() >= entry.tooLargeUntil) {
        this.sync(organizationId, entry);
      }
      return null;
    }
    this.counts.answered += 1;
    const snapshot = entry.snapshot!;
    return { campaign, entries: phones.map((phone) => snapshot.lookup(phone, campaignId)) };
  }

  /** What the cache holds for the organization (metrics, tests). */
  status(organizationId: string): "absent" | "loading" | "held" | "too large" {
    const entry = this.held.peek(organizationId);
    if (!entry) return "absent";
    if (entry.snapshot) return "held";
    return entry.tooLargeUntil > 0 ? "too large" : "loading";
  }

  private vouches(entry: Held): boolean {
    const since = this.wakeups.listeningSince();
    return (
      entry.snapshot !== null &&
      entry.campaigns !== null &&
      !entry.loading &&
      entry.confirmedWakes === entry.wakes &&
      since !== null &&
      entry.confirmedAt >= since &&
      performance.now() - entry.confirmedAt <= this.options.freshnessMs
    );
  }

  /**
   * The ledger writer's committed batch, applied before its answers go out. The cursor moves only
   * when the batch follows it directly and every number it touched was held; otherwise the
   * batch's wake-up has the cache read what it lacks.
   */
  committed(
    organizationId: string,
    phones: readonly string[],
    outcomes: readonly LedgerOutcome[],
  ): void {
    try {
      this.apply(organizationId, phones, outcomes);
    } catch (error) {
      // the batch is committed whatever happens here: forget the organization, never answer wrong
      this.held.delete(organizationId);
      this.onError(error);
    }
  }

  private apply(
    organizationId: string,
    phones: readonly string[],
    outcomes: readonly LedgerOutcome[],
  ) {
    const entry = this.held.peek(organizationId);
    const snapshot = entry?.snapshot;
    if (!entry || !snapshot || entry.loading) return;
    let first = Infinity;
    let last = -Infinity;
    let events = 0;
    let complete = true;
    outcomes.forEach((outcome, i) => {
      if (outcome.kind !== "WRITTEN" || outcome.events.length === 0) return;
      for (const event of outcome.events) {
        first = Math.min(first, event.sequence);
        last = Math.max(last, event.sequence);
        events += 1;
        const covered = outcome.consents.some(
          (c) => c.id === event.consentId && c.lastSequence >= event.sequence,
        );
        if (!covered) complete = false;
      }
      if (!snapshot.has(phones[i])) {
        complete = false;
        return;
      }
      for (const c of outcome.consents) {
        snapshot.put({
          ...c,
          phone: phones[i],
          expiresAt: c.expiresAt?.getTime() ?? null,
          createdAt: c.createdAt.getTime(),
          updatedAt: c.updatedAt.getTime(),
        });
      }
    });
    if (events > 0 && complete && first === entry.cursor + 1 && last - first + 1 === events) {
      entry.cursor = last;
    }
  }

  private confirm(entry: Held, wakes: number, startedAt: number) {
    entry.confirmedWakes = Math.max(entry.confirmedWakes, wakes);
    entry.confirmedAt = Math.max(entry.confirmedAt, startedAt);
  }

  private current(entry: Held, head: Head): boolean {
    return (
      entry.snapshot !== null &&
      head.ledgerSequence <= entry.cursor &&
      head.campaignRevision <= entry.campaignRevision &&
      head.subscriberRevision <= entry.subscriberRevision
    );
  }

  /** Reads the head and catches up, again while wake-ups keep arriving; one run at a time. */
  private sync(organizationId: string, entry: Held) {
    if (entry.syncing) {
      entry.again = true;
      return;
    }
    entry.syncing = true;
    void (async () => {
      do {
        entry.again = false;
        const wakes = entry.wakes;
        const startedAt = performance.now();
        const [head] = await readHeads(this.read, [organizationId]);
        if (!head) {
          this.held.delete(organizationId);
          return;
        }
        await this.catchUp(organizationId, entry, head);
        this.confirm(entry, wakes, startedAt);
      } while (entry.again);
    })()
      .catch(this.onError)
      .finally(() => {
        entry.syncing = false;
      });
  }

  private async catchUp(organizationId: string, entry: Held, head: Head) {
    const stale =
      !entry.snapshot ||
      head.subscriberRevision !== entry.subscriberRevision ||
      head.ledgerSequence - entry.cursor > RELOAD_AFTER;
    if (stale && performance.now() >= entry.tooLargeUntil) {
      entry.loading = true;
      try {
        entry.snapshot = await loadSnapshot(this.read, organizationId, this.options.maxConsents);
      } finally {
        entry.loading = false;
      }
      entry.cursor = head.ledgerSequence;
      entry.subscriberRevision = head.subscriberRevision;
      if (!entry.snapshot) entry.tooLargeUntil = performance.now() + TOO_LARGE_RETRY_MS;
      this.resize(organizationId, entry);
    } else if (entry.snapshot && head.ledgerSequence > entry.cursor) {
      const rows = await readChanges(this.read, organizationId, entry.cursor, head.ledgerSequence);
      for (const row of rows) entry.snapshot.put(row);
      entry.cursor = Math.max(entry.cursor, head.ledgerSequence);
      this.resize(organizationId, entry);
    }
    if (head.campaignRevision !== entry.campaignRevision || !entry.campaigns) {
      entry.campaigns = await readCampaigns(this.read, organizationId);
      entry.campaignRevision = head.campaignRevision;
    }
  }

  /** Records the entry's new size (the least recently used others may go). */
  private resize(organizationId: string, entry: Held) {
    if (this.held.peek(organizationId) === entry) {
      this.held.set(organizationId, entry, { noUpdateTTL: true });
    }
  }

  /** The heartbeat: one head read for every organization held, each confirmed or caught up. */
  private async confirmAll() {
    this.held.purgeStale();
    const started = new Map<string, { entry: Held; wakes: number }>();
    for (const [organizationId, entry] of this.held.entries()) {
      if (entry.snapshot && !entry.syncing)
        started.set(organizationId, { entry, wakes: entry.wakes });
    }
    if (started.size === 0) return;
    const startedAt = performance.now();
    const heads = await readHeads(this.read, [...started.keys()]);
    for (const head of heads) {
      const { entry, wakes } = started.get(head.id)!;
      if (entry.syncing) continue;
      if (this.current(entry, head)) this.confirm(entry, wakes, startedAt);
      else {
        // behind without having heard why (a lost wake-up): stop answering until caught up
        entry.wakes += 1;
        this.sync(head.id, entry);
      }
    }
  }

  close() {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    this.held.clear();
  }
}
