// Appending to an organization's ledger inside a transaction, and verifying the chain. Locking the
// organization's ledger head (one row) serializes its appends, so sequence numbers are gap-free
// and in commit order, and each hash chains from the event committed just before it.
import { ChainVerifier, eventHash, type ChainCheck, type LedgerFacts } from "../domain/ledger.ts";
import type { Prisma, SqlQuery } from "../db/client.ts";
import type { Tx } from "./transaction.ts";

export interface LedgerHead {
  organizationId: string;
  sequence: number;
  hash: string;
}

/**
 * NO KEY UPDATE serializes the organization's ledger writers as FOR UPDATE would, but lets other
 * transactions insert rows that reference the organization meanwhile (their foreign key check
 * takes KEY SHARE): an import creates its next batch's subscribers while a batch is being applied.
 */
const LOCK_HEAD = `select "ledgerSequence", "ledgerHeadHash" from "Organization"
  where id = $1::uuid for no key update`;

type HeadRow = { ledgerSequence: number; ledgerHeadHash: string };

function headOf(organizationId: string, rows: HeadRow[]): LedgerHead {
  if (rows.length === 0) throw new Error(`organization ${organizationId} does not exist`);
  return { organizationId, sequence: rows[0].ledgerSequence, hash: rows[0].ledgerHeadHash };
}

/** Locks the organization's ledger head until the transaction ends. Call it first. */
export async function lockLedger(tx: Tx, organizationId: string): Promise<LedgerHead> {
  return headOf(organizationId, await tx.$queryRawUnsafe<HeadRow[]>(LOCK_HEAD, organizationId));
}

/** lockLedger in a plain SQL transaction (Database.transaction). */
export async function lockLedgerSql(sql: SqlQuery, organizationId: string): Promise<LedgerHead> {
  return headOf(organizationId, await sql<HeadRow>(LOCK_HEAD, [organizationId]));
}

export type EventDraft = Omit<LedgerFacts, "organizationId" | "sequence" | "recordedAt">;

/**
 * Appends events after the locked head, in order, and moves the head. Returns the stored rows.
 * All events of one call share `recordedAt`.
 */
export async function appendEvents(
  tx: Tx,
  head: LedgerHead,
  drafts: readonly EventDraft[],
  recordedAt: Date,
) {
  if (drafts.length === 0) return [];
  let prevHash = head.hash;
  const rows = drafts.map((draft, i) => {
    const facts: LedgerFacts = {
      ...draft,
      organizationId: head.organizationId,
      sequence: head.sequence + i + 1,
      recordedAt,
    };
    const hash = eventHash(prevHash, facts);
    const row = { ...facts, evidence: (facts.evidence ?? undefined) as never, prevHash, hash };
    prevHash = hash;
    return row;
  });
  const events = await tx.consentEvent.createManyAndReturn({ data: rows });
  head.sequence += rows.length;
  head.hash = prevHash;
  await tx.organization.update({
    where: { id: head.organizationId },
    data: { ledgerSequence: head.sequence, ledgerHeadHash: head.hash },
  });
  return events.sort((a, b) => a.sequence - b.sequence);
}

const VERIFY_BATCH = 5000;

/** Recomputes the organization's whole chain, reading it in batches. */
export async function verifyLedger(prisma: Prisma, organizationId: string): Promise<ChainCheck> {
  const organization = await prisma.organization.findUniqueOrThrow({
    where: { id: organizationId },
    select: { ledgerSequence: true, ledgerHeadHash: true },
  });
  const verifier = new ChainVerifier();
  let after = 0;
  for (;;) {
    const batch = await prisma.consentEvent.findMany({
      where: { organizationId, sequence: { gt: after, lte: organization.ledgerSequence } },
      orderBy: { sequence: "asc" },
      take: VERIFY_BATCH,
    });
    if (batch.length === 0 || !verifier.feed(batch)) break;
    after = batch[batch.length - 1].sequence;
  }
  return verifier.result({
    sequence: organization.ledgerSequence,
    hash: organization.ledgerHeadHash,
  });
}
