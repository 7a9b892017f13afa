// The evidence a consent change carries (a JSON object: ip, userAgent, pageUrl and any details):
// what is accepted into the ledger. Evidence is hashed into the chain and stored as jsonb, so it
// must be plain, bounded JSON: no nesting deeper than a person would write, no text that is not
// valid Unicode, and no keys that mean something to JavaScript objects.
import { isIP } from "node:net";
import { badInput } from "./errors.ts";

export const MAX_EVIDENCE_BYTES = 16_384;
export const MAX_EVIDENCE_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Walks the value without recursion (a deep value must not exhaust the stack) and refuses what
 * the ledger cannot hold faithfully.
 */
function checkShape(value: object, field: string): void {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (typeof current === "string") {
      if (LONE_SURROGATE.test(current)) {
        throw badInput(field, "must be valid Unicode (a lone surrogate is not)");
      }
      continue;
    }
    if (typeof current !== "object" || current === null) continue;
    if (depth > MAX_EVIDENCE_DEPTH) {
      throw badInput(field, `must be nested at most ${MAX_EVIDENCE_DEPTH} levels deep`);
    }
    if (Array.isArray(current)) {
      for (const item of current) pending.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      if (FORBIDDEN_KEYS.has(key)) throw badInput(field, `must not use the key "${key}"`);
      if (LONE_SURROGATE.test(key)) {
        throw badInput(field, "must be valid Unicode (a lone surrogate is not)");
      }
      pending.push({ value: item, depth: depth + 1 });
    }
  }
}

/** The evidence as given when it may be recorded, null when absent; BAD_USER_INPUT naming `field`. */
export function checkEvidence(
  value: unknown,
  field = "input.evidence",
): Record<string, unknown> | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value))
    throw badInput(field, "must be a JSON object");
  checkShape(value, field);
  const evidence = value as Record<string, unknown>;
  const text = JSON.stringify(evidence);
  if (Buffer.byteLength(text) > MAX_EVIDENCE_BYTES) {
    throw badInput(field, `must be at most ${MAX_EVIDENCE_BYTES} bytes of JSON`);
  }
  if (text.includes("\\u0000")) throw badInput(field, "must not contain NUL characters");
  if (evidence.ip !== undefined && (typeof evidence.ip !== "string" || isIP(evidence.ip) === 0)) {
    throw badInput(`${field}.ip`, `${JSON.stringify(evidence.ip)} is not an IP address`);
  }
  if (
    evidence.userAgent !== undefined &&
    (typeof evidence.userAgent !== "string" || evidence.userAgent.length > 1000)
  ) {
    throw badInput(`${field}.userAgent`, "must be a string of at most 1000 characters");
  }
  if (evidence.pageUrl !== undefined) {
    let ok = typeof evidence.pageUrl === "string";
    if (ok) {
      try {
        ok = ["http:", "https:"].includes(new URL(evidence.pageUrl as string).protocol);
      } catch {
        ok = false;
      }
    }
    if (!ok)
      throw badInput(
        `${field}.pageUrl`,
        `${JSON.stringify(evidence.pageUrl)} is not an http(s) URL`,
      );
  }
  return evidence;
}
