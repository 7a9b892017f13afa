// The consent ledger's hash chain: each event's hash is sha256(previous hash ‖ canonical event),
// where the canonical form is RFC 8785 JSON (sorted keys, fixed number and string forms), so the
// chain can be recomputed by anyone, in any language, years later.
import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";
import type { ConsentMethod, ConsentStatus } from "./consent.ts";
import { badInput } from "./errors.ts";

/**
 * The JSON text an event's evidence is stored as: its canonical form, exactly what the hash
 * covers. Refuses, as bad input of `field`, what has no such text or that a database cannot hold
 * unchanged (NaN, Infinity, lone surrogates, NUL, nesting too deep to walk).
 */
export function ledgerJson(value: unknown, field = "input.evidence"): string {
  let text: string | undefined;
  try {
    text = canonicalJson(value);
  } catch (error) {
    const reason =
      error instanceof RangeError ? "it is nested too deeply" : (error as Error).message;
    throw badInput(field, `cannot be recorded: ${reason}`);
  }
  if (text === undefined) throw badInput(field, "is not JSON");
  if (text.includes("\\u0000")) throw badInput(field, "must not contain NUL characters");
  return text;
}

/** The hash an organization's first event chains from. */
export const GENESIS_HASH = "";

/** Everything an event asserts; what the hash covers. */
export interface LedgerFacts {
  organizationId: string;
  sequence: number;
  subscriberId: string;
  campaignId: string | null;
  consentId: string | null;
  fromStatus: ConsentStatus | null;
  toStatus: ConsentStatus;
  method: ConsentMethod;
  occurredAt: Date;
  recordedAt: Date;
  evidence: unknown;
  disclosureVersionId: string | null;
  apiKeyId: string | null;
  keywordEventId: string | null;
}

export function canonicalEvent(facts: LedgerFacts): string {
  const text = canonicalJson({
    v: 1,
    organizationId: facts.organizationId,
    sequence: facts.sequence,
    subscriberId: facts.subscriberId,
    campaignId: facts.campaignId,
    consentId: facts.consentId,
    fromStatus: facts.fromStatus,
    toStatus: facts.toStatus,
    method: facts.method,
    occurredAt: facts.occurredAt.toISOString(),
    recordedAt: facts.recordedAt.toISOString(),
    evidence: facts.evidence ?? null,
    disclosureVersionId: facts.disclosureVersionId,
    apiKeyId: facts.apiKeyId,
    keywordEventId: facts.keywordEventId,
  });
  if (text === undefined) throw new Error("ledger event cannot be canonicalized");
  return text;
}

export function eventHash(prevHash: string, facts: LedgerFacts): string {
  return createHash("sha256")
    .update(prevHash, "utf8")
    .update("\n")
    .update(canonicalEvent(facts), "utf8")
    .digest("hex");
}

export interface StoredEvent extends LedgerFacts {
  id: string;
  prevHash: string;
  hash: string;
}

export interface ChainCheck {
  ok: boolean;
  eventsChecked: number;
  firstBrokenEventId: string | null;
}

/**
 * Recomputes a chain over events fed in sequence order, in batches. The first event whose
 * sequence, link or hash does not match (altered facts, a forged hash, a missing or reordered
 * row) breaks it; at the end the organization's recorded head must be the last event.
 */
export class ChainVerifier {
  private prev = GENESIS_HASH;
  private expectedSequence = 1;
  private checked = 0;
  private broken: string | null = null;

  /** Feeds the next events; returns false once the chain is broken (stop reading). */
  feed(events: Iterable<StoredEvent>): boolean {
    for (const event of events) {
      if (this.broken) return false;
      this.checked++;
      const intact =
        event.sequence === this.expectedSequence &&
        event.prevHash === this.prev &&
        eventHash(this.prev, event) === event.hash;
      if (!intact) {
        this.broken = event.id;
        return false;
      }
      this.prev = event.hash;
      this.expectedSequence++;
    }
    return true;
  }

  result(head: { sequence: number; hash: string }): ChainCheck {
    const headMatches = head.sequence === this.expectedSequence - 1 && head.hash === this.prev;
    return {
      ok: this.broken === null && headMatches,
      eventsChecked: this.checked,
      firstBrokenEventId: this.broken,
    };
  }
}
