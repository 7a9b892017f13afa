// One organization's consents held in memory for send decisions: each number's subscriber (its id
// and stored time zone and state) and its consent per campaign. Rows are merged by the ledger sequence that
// produced them, so rows arriving out of order (a local commit, a catch-up read begun before it)
// never put an older state over a newer one. Times are kept as epoch milliseconds and repeated
// strings (campaign ids, statuses, zones) are shared, to keep the bytes per consent down
// (docs/BENCHMARKS.md: "canSend from memory").
import type { ConsentMethod, ConsentStatus } from "../domain/consent.ts";
import type { ConsentRow } from "./send-decisions.ts";

/** A consent as read for the snapshot: times in epoch milliseconds (null: none). */
export interface HeldRow {
  phone: string;
  subscriberId: string;
  /** the subscriber's stored time zone; undefined: unchanged (a local commit does not read it) */
  timezone?: string | null;
  /** the subscriber's stored state of residence; undefined: unchanged */
  state?: string | null;
  id: string;
  campaignId: string;
  status: ConsentStatus;
  method: ConsentMethod;
  disclosureVersionId: string | null;
  lastSequence: number;
  expiresAt: number | null;
  hadConsented: boolean;
  createdAt: number;
  updatedAt: number;
}

class HeldConsent {
  constructor(
    readonly id: string,
    readonly campaignId: string,
    readonly status: ConsentStatus,
    readonly method: ConsentMethod,
    readonly disclosureVersionId: string | null,
    readonly lastSequence: number,
    readonly expiresAt: number | null,
    readonly hadConsented: boolean,
    readonly createdAt: number,
    readonly updatedAt: number,
  ) {}
}

class HeldSubscriber {
  /** one consent as itself (most numbers have one), more as an exactly sized array */
  consents: HeldConsent | HeldConsent[] | null = null;
  constructor(
    readonly id: string,
    public timezone: string | null,
    public state: string | null,
  ) {}
}

export class ConsentSnapshot {
  private readonly subscribers = new Map<string, HeldSubscriber>();
  private readonly strings = new Map<string, string>();
  /** consents held */
  size = 0;

  constructor(readonly organizationId: string) {}

  private shared<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    this.strings.set(value, value);
    return value;
  }

  /** Whether the number's subscriber is held (its stored time zone is known). */
  has(phone: string): boolean {
    return this.subscribers.has(phone);
  }

  /** Adds or replaces a consent unless the held one comes from a later ledger event. */
  put(row: HeldRow): void {
    let subscriber = this.subscribers.get(row.phone);
    if (!subscriber) {
      subscriber = new HeldSubscriber(
        row.subscriberId,
        this.shared(row.timezone ?? null),
        this.shared(row.state ?? null),
      );
      this.subscribers.set(row.phone, subscriber);
    } else {
      if (row.timezone !== undefined) subscriber.timezone = this.shared(row.timezone);
      if (row.state !== undefined) subscriber.state = this.shared(row.state);
    }
    const consents = subscriber.consents;
    const list = consents === null ? [] : Array.isArray(consents) ? consents : [consents];
    const index = list.findIndex((c) => c.campaignId === row.campaignId);
    if (index >= 0 && list[index].lastSequence > row.lastSequence) return;
    const held = new HeldConsent(
      row.id,
      this.shared(row.campaignId),
      this.shared(row.status),
      this.shared(row.method),
      this.shared(row.disclosureVersionId),
      row.lastSequence,
      row.expiresAt,
      row.hadConsented,
      row.createdAt,
      row.updatedAt,
    );
    if (index >= 0) {
      list[index] = held;
      subscriber.consents = list.length === 1 ? held : list;
    } else {
      subscriber.consents = list.length === 0 ? held : [...list, held];
      this.size += 1;
    }
  }

  /** The number's consent for the campaign (null: none) and its stored time zone. */
  lookup(
    phone: string,
    campaignId: string,
  ): { consent: ConsentRow | null; timezone: string | null; state: string | null } {
    const subscriber = this.subscribers.get(phone);
    if (!subscriber) return { consent: null, timezone: null, state: null };
    const consents = subscriber.consents;
    const held = Array.isArray(consents)
      ? consents.find((c) => c.campaignId === campaignId)
      : consents?.campaignId === campaignId
        ? consents
        : undefined;
    if (!held) return { consent: null, timezone: subscriber.timezone, state: subscriber.state };
    return {
      timezone: subscriber.timezone,
      state: subscriber.state,
      consent: {
        id: held.id,
        organizationId: this.organizationId,
        subscriberId: subscriber.id,
        campaignId: held.campaignId,
        status: held.status,
        method: held.method,
        disclosureVersionId: held.disclosureVersionId,
        lastSequence: held.lastSequence,
        expiresAt: held.expiresAt === null ? null : new Date(held.expiresAt),
        hadConsented: held.hadConsented,
        createdAt: new Date(held.createdAt),
        updatedAt: new Date(held.updatedAt),
      },
    };
  }
}
