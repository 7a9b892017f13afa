// API key secrets: how they are made, how they are stored (a SHA-256 hash, never the secret), and
// what each role may do.
import { createHash, randomBytes } from "node:crypto";

export type Role = "ADMIN" | "OPERATOR" | "PARTNER" | "VIEWER";

const SECRET_PREFIX = "og_";

export function newApiKeySecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64url");
}

export function hashApiKeySecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** The first characters of a secret, safe to show in listings and logs. */
export function apiKeySecretPrefix(secret: string): string {
  return secret.slice(0, SECRET_PREFIX.length + 6);
}

/** The credential from an `Authorization` value: `Bearer <key>` (or the bare key). */
export function secretFromAuthorization(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value);
  if (match) return match[1];
  return /^\S+$/.test(value.trim()) && !/\s/.test(value.trim()) ? value.trim() : undefined;
}

/** Who is acting: resolved from the API key of a request. */
export interface Actor {
  apiKeyId: string;
  organizationId: string;
  role: Role;
  /** PARTNER keys: the only campaigns they may touch; null for every other role */
  campaignIds: readonly string[] | null;
  /** the bootstrap key, which alone may create organizations */
  isPlatform: boolean;
}

export const canManageKeys = (actor: Actor) => actor.role === "ADMIN";
export const canConfigure = (actor: Actor) => actor.role === "ADMIN" || actor.role === "OPERATOR";
export const canWriteConsent = (actor: Actor) => actor.role !== "VIEWER";
/** a subscriber's location (zone, state, locale): every role but VIEWER, on the subscribers it sees */
export const canUpdateSubscriber = (actor: Actor) => actor.role !== "VIEWER";

/** Whether the actor may see or act on a campaign (PARTNER keys are limited to their list). */
export function mayTouchCampaign(actor: Actor, campaignId: string): boolean {
  return actor.campaignIds === null || actor.campaignIds.includes(campaignId);
}
