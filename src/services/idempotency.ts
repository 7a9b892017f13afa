// Idempotency keys: the key's shape and the hash of a request's input. The ledger writer
// (ledger.ts) stores the first result of a keyed mutation with that hash in the same transaction;
// a retry with the same key and input gets that result back, a reuse with other input is refused.
import { createHash } from "node:crypto";
import { ledgerJson } from "../domain/ledger.ts";
import { badInput } from "../domain/errors.ts";

export function requestHash(operation: string, input: unknown): string {
  return createHash("sha256").update(ledgerJson({ operation, input }, "input")).digest("hex");
}

export function checkIdempotencyKey(key: string | null | undefined): string | null {
  if (key == null) return null;
  if (key.length < 1 || key.length > 200)
    throw badInput("input.idempotencyKey", "must be 1 to 200 characters");
  return key;
}
