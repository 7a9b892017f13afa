// The ledger writer: the only module that appends consent events. Every consent change arrives as
// a request (a command for one number, decided by src/domain/decider.ts) and is applied with the
// others waiting for the same organization in one transaction (group commit): the organization's
// ledger head is locked, the state of every number in the batch is read set-wise, each request is
// decided in order against the state the requests before it left, and the batch's subscribers,
// inbound messages, consents, hash-chained events and idempotency records are written with one
// statement each. Each request gets its own outcome; a refused one writes nothing, and a batch
// whose transaction fails is tried again in halves, so one bad request never fails the others.
// Locking the head row serializes an organization's writers across instances: sequence numbers are
// gap-free in commit order and each hash chains from the event committed just before it.
// ledger-batch.ts applies one batch, ledger-state.ts reads its state, ledger-rows.ts writes it.
import { isDatabaseUnavailable, type Prisma, type SqlQuery } from "../db/client.ts";
import { ChainVerifier, type ChainCheck, type LedgerFacts } from "../domain/ledger.ts";
import { countCommitted } from "./consent-metrics.ts";
import { appendChanges, lockHead, type LedgerOutcome, type LedgerRequest } from "./ledger-batch.ts";
import { inTurn, LedgerBusyError } from "./ledger-gate.ts";
import type { Runtime } from "./runtime.ts";
import type { LogHeads } from "../events/wakeups.ts";
import type { ConsentEvent } from "../generated/prisma/client.ts";

export type {
  AppendOptions,
  InboundRecord,
  LedgerOutcome,
  LedgerRequest,
  StoredResult,
} from "./ledger-batch.ts";
export { appendChanges };

/** Requests a batch takes at most; the rest wait for the next turn. */
const MAX_BATCH = 500;
/** How long a request may wait for its organization's turn before a retryable refusal. */
const MAX_WAIT_MS = 10_000;
const TRANSACTION_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Group commit

interface Waiting {
  request: LedgerRequest;
  resolve: (outcome: LedgerOutcome) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

const queues = new Map<string, Waiting[]>();
const flushing = new Set<string>();

/**
 * Decides and writes one request in the organization's next batch; resolves once it committed
 * (and every instance's streams were woken) with its own outcome.
 */
export function write(
  runtime: Runtime,
  organizationId: string,
  request: LedgerRequest,
): Promise<LedgerOutcome> {
  return new Promise((resolve, reject) => {
    let queue = queues.get(organizationId);
    if (!queue) queues.set(organizationId, (queue = []));
    const waiting: Waiting = {
      request,
      resolve,
      reject,
      timer: setTimeout(() => {
        const index = queue.indexOf(waiting);
        if (index < 0) return;
        queue.splice(index, 1);
        reject(new LedgerBusyError(MAX_WAIT_MS));
      }, MAX_WAIT_MS),
    };
    queue.push(waiting);
    if (!flushing.has(organizationId)) void flush(runtime, organizationId, queue);
  });
}

async function flush(runtime: Runtime, organizationId: string, queue: Waiting[]) {
  flushing.add(organizationId);
  try {
    while (queue.length > 0) {
      try {
        await inTurn(organizationId, MAX_WAIT_MS, async () => {
          const batch = queue.splice(0, MAX_BATCH);
          for (const waiting of batch) clearTimeout(waiting.timer);
          await commitBatch(runtime, organizationId, batch);
        });
      } catch (error) {
        // the turn did not come in time: the waiting requests time out on their own
        if (!(error instanceof LedgerBusyError)) throw error;
      }
    }
  } finally {
    flushing.delete(organizationId);
    if (queues.get(organizationId) === queue && queue.length === 0) queues.delete(organizationId);
  }
}

async function commitBatch(runtime: Runtime, organizationId: string, batch: Waiting[]) {
  let outcomes: LedgerOutcome[];
  try {
    outcomes = await runtime.transaction(
      (sql) =>
        appendChanges(
          sql,
          organizationId,
          batch.map((w) => w.request),
        ),
      { timeoutMs: TRANSACTION_TIMEOUT_MS },
    );
  } catch (error) {
    if (batch.length > 1 && !isDatabaseUnavailable(error)) {
      // Nothing was written: find the request that fails on its own.
      const half = Math.ceil(batch.length / 2);
      await commitBatch(runtime, organizationId, batch.slice(0, half));
      await commitBatch(runtime, organizationId, batch.slice(half));
      return;
    }
    for (const waiting of batch) waiting.reject(error);
    return;
  }
  // this instance's cache first, so an answer never goes out ahead of it
  runtime.sendCache.committed(
    organizationId,
    batch.map((w) => w.request.phone),
    outcomes,
  );
  runtime.wakeups.publish(organizationId, headsOf(outcomes), { ledger: eventsOf(outcomes) });
  countCommitted(outcomes);
  batch.forEach((waiting, i) => waiting.resolve(outcomes[i]));
}

/** A committed batch's ledger events, in sequence order. */
function eventsOf(outcomes: readonly LedgerOutcome[]): ConsentEvent[] {
  const events: ConsentEvent[] = [];
  for (const outcome of outcomes) if (outcome.kind === "WRITTEN") events.push(...outcome.events);
  return events.sort((a, b) => a.sequence - b.sequence);
}

/** Where a committed batch left the organization's logs (the last sequence each one got). */
function headsOf(outcomes: readonly LedgerOutcome[]): LogHeads {
  const heads: LogHeads = {};
  for (const outcome of outcomes) {
    if (outcome.kind !== "WRITTEN") continue;
    for (const event of outcome.events) heads.ledger = Math.max(heads.ledger ?? 0, event.sequence);
    if (outcome.keywordEvent) {
      heads.keywords = Math.max(heads.keywords ?? 0, outcome.keywordEvent.sequence);
    }
  }
  return heads;
}

/** Runs `work` in a plain SQL transaction in the organization's turn among this process's writers. */
export async function inLedgerTurn<T>(
  runtime: Runtime,
  organizationId: string,
  work: (sql: SqlQuery) => Promise<T>,
): Promise<T> {
  const result = await inTurn(organizationId, MAX_WAIT_MS, () =>
    runtime.transaction(work, { timeoutMs: TRANSACTION_TIMEOUT_MS }),
  );
  runtime.wakeups.publish(organizationId);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Verification

const VERIFY_BATCH = 5000;

/**
 * Recomputes the organization's whole chain, reading it in batches. Evidence is read as the text
 * the database holds and parsed here, so what is checked is what is stored.
 */
export async function verifyLedger(prisma: Prisma, organizationId: string): Promise<ChainCheck> {
  const organization = await prisma.organization.findUniqueOrThrow({
    where: { id: organizationId },
    select: { ledgerSequence: true, ledgerHeadHash: true },
  });
  const verifier = new ChainVerifier();
  let after = 0;
  for (;;) {
    const rows = await prisma.$queryRawUnsafe<
      (Omit<LedgerFacts, "occurredAt" | "recordedAt" | "evidence"> & {
        id: string;
        prevHash: string;
        hash: string;
        occurredAtMs: number;
        recordedAtMs: number;
        evidenceText: string | null;
      })[]
    >(
      `select id::text, "organizationId"::text as "organizationId", sequence,
              "subscriberId"::text as "subscriberId", "campaignId"::text as "campaignId",
              "consentId"::text as "consentId", "fromStatus"::text as "fromStatus",
              "toStatus"::text as "toStatus", method::text as method,
              (extract(epoch from "occurredAt") * 1000)::float8 as "occurredAtMs",
              (extract(epoch from "recordedAt") * 1000)::float8 as "recordedAtMs",
              evidence::text as "evidenceText", "disclosureVersionId"::text as "disclosureVersionId",
              "apiKeyId"::text as "apiKeyId", "keywordEventId"::text as "keywordEventId",
              "prevHash", hash
       from "ConsentEvent"
       where "organizationId" = $1::uuid and sequence > $2 and sequence <= $3
       order by sequence limit $4`,
      organizationId,
      after,
      organization.ledgerSequence,
      VERIFY_BATCH,
    );
    const batch = rows.map(({ occurredAtMs, recordedAtMs, evidenceText, ...row }) => ({
      ...row,
      occurredAt: new Date(occurredAtMs),
      recordedAt: new Date(recordedAtMs),
      evidence: evidenceText === null ? null : (JSON.parse(evidenceText) as unknown),
    }));
    if (batch.length === 0 || !verifier.feed(batch)) break;
    after = batch[batch.length - 1].sequence;
  }
  return verifier.result({
    sequence: organization.ledgerSequence,
    hash: organization.ledgerHeadHash,
  });
}

/** Locks the organization's ledger head until the transaction ends (appendChanges does it too). */
export async function lockLedger(sql: SqlQuery, organizationId: string): Promise<void> {
  await lockHead(sql, organizationId);
}
