// Idempotency keys: the first result of a keyed mutation is stored with a hash of its input, in
// the same transaction; a retry with the same key and input gets that result back, a reuse with
// other input is refused. Runs under the ledger lock, so concurrent retries serialize.
import { createHash } from "node:crypto";
import { canonicalJson } from "../domain/canonical-json.ts";
import { badInput, conflict } from "../domain/errors.ts";
import type { Tx } from "./transaction.ts";

export function requestHash(operation: string, input: unknown): string {
  return createHash("sha256")
    .update(canonicalJson({ operation, input }) ?? "")
    .digest("hex");
}

export function checkIdempotencyKey(key: string | null | undefined): string | null {
  if (key == null) return null;
  if (key.length < 1 || key.length > 200)
    throw badInput("input.idempotencyKey", "must be 1 to 200 characters");
  return key;
}

/** The stored result for this key, or null when the key is new. */
export async function replay<T>(
  tx: Tx,
  organizationId: string,
  key: string,
  operation: string,
  hash: string,
) {
  const record = await tx.idempotencyRecord.findUnique({
    where: { organizationId_key: { organizationId, key } },
  });
  if (!record) return null;
  if (record.operation !== operation || record.requestHash !== hash) {
    throw conflict(
      `idempotencyKey "${key}" was already used with different input.`,
      "input.idempotencyKey",
    );
  }
  return record.result as T;
}

export async function remember(
  tx: Tx,
  organizationId: string,
  key: string,
  operation: string,
  hash: string,
  result: unknown,
) {
  await tx.idempotencyRecord.create({
    data: { organizationId, key, operation, requestHash: hash, result: result as never },
  });
}
