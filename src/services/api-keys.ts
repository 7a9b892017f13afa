// API keys: authenticating a request's secret into an Actor, and creating and revoking keys.
import {
  apiKeySecretPrefix,
  hashApiKeySecret,
  newApiKeySecret,
  type Actor,
  type Role,
} from "../domain/api-key.ts";
import { badInput, conflict, forbidden, notFound } from "../domain/errors.ts";
import type { Prisma } from "../db/client.ts";
import { LRUCache } from "lru-cache";

/** lastUsedAt is written at most this often per key (not on every request). */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Recently authenticated keys, for a second at most: every request carries its key, and a lookup
 * per request would be most of a canSend's work. A revocation made through this instance takes
 * effect at once (revokeApiKey drops the entry); one made through another instance within the
 * second. Unknown keys are not cached.
 */
/** How long an authenticated key is trusted without a lookup (revocations elsewhere take this long). */
export const KEY_CACHE_MS = 1000;

const recentKeys = new LRUCache<string, Actor>({ max: 10_000, ttl: KEY_CACHE_MS });

/** The actor behind a secret authenticated within the last second, without a lookup. */
export function cachedActor(secret: string): Actor | undefined {
  return recentKeys.get(hashApiKeySecret(secret));
}

/** The actor behind a secret, or null when the secret is unknown or revoked. */
export async function authenticate(prisma: Prisma, secret: string): Promise<Actor | null> {
  const secretHash = hashApiKeySecret(secret);
  const cached = recentKeys.get(secretHash);
  if (cached) return cached;
  const key = await prisma.apiKey.findUnique({ where: { secretHash } });
  if (!key || key.revokedAt) return null;
  const now = Date.now();
  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // Recording use must never fail or slow the request it belongs to.
    prisma.apiKey
      .update({ where: { id: key.id }, data: { lastUsedAt: new Date(now) } })
      .catch(() => undefined);
  }
  const actor: Actor = {
    apiKeyId: key.id,
    organizationId: key.organizationId,
    role: key.role,
    campaignIds: key.role === "PARTNER" ? key.campaignIds : null,
    isPlatform: key.isPlatform,
  };
  recentKeys.set(secretHash, actor);
  return actor;
}

export interface CreateApiKeyInput {
  name: string;
  role: Role;
  campaignIds: readonly string[] | null | undefined;
}

function assertAdmin(actor: Actor) {
  if (actor.role !== "ADMIN") throw forbidden("Only ADMIN keys may manage API keys.");
}

export async function createApiKey(prisma: Prisma, actor: Actor, input: CreateApiKeyInput) {
  assertAdmin(actor);
  const name = input.name.trim();
  if (name === "" || name.length > 100) throw badInput("input.name", "must be 1 to 100 characters");
  const campaignIds = [...new Set(input.campaignIds ?? [])];
  if (input.role === "PARTNER") {
    if (campaignIds.length === 0) {
      throw badInput("input.campaignIds", "a PARTNER key needs at least one campaign");
    }
    const found = await prisma.campaign.findMany({
      where: { id: { in: campaignIds }, organizationId: actor.organizationId },
      select: { id: true },
    });
    const missing = campaignIds.filter((id) => !found.some((c) => c.id === id));
    if (missing.length > 0) throw notFound("campaign", missing[0]);
  } else if (campaignIds.length > 0) {
    throw badInput(
      "input.campaignIds",
      `only PARTNER keys are limited to campaigns, not ${input.role}`,
    );
  }
  const secret = newApiKeySecret();
  const apiKey = await prisma.apiKey.create({
    data: {
      organizationId: actor.organizationId,
      name,
      role: input.role,
      secretHash: hashApiKeySecret(secret),
      secretPrefix: apiKeySecretPrefix(secret),
      campaignIds,
    },
  });
  return { apiKey, secret };
}

/** Revokes a key of the actor's organization; revoking a revoked key changes nothing. */
export async function revokeApiKey(prisma: Prisma, actor: Actor, id: string) {
  assertAdmin(actor);
  const key = await prisma.apiKey.findFirst({
    where: { id, organizationId: actor.organizationId },
  });
  if (!key) throw notFound("API key", id);
  // Revoking it would leave no key that may create organizations.
  if (key.isPlatform) {
    throw forbidden("The platform key cannot be revoked; replace it with rotatePlatformKey.");
  }
  const revoked = key.revokedAt
    ? key
    : await prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
  // After the write: a lookup racing it cannot cache the key again as valid.
  recentKeys.delete(key.secretHash);
  return revoked;
}

/**
 * Replaces the platform key: in one transaction a new platform key is created and the caller's is
 * revoked, so there is always exactly one. Only the platform key itself may do it.
 */
export async function rotatePlatformKey(prisma: Prisma, actor: Actor) {
  if (!actor.isPlatform) throw forbidden("Only the platform key may rotate the platform key.");
  const secret = newApiKeySecret();
  const { apiKey, oldSecretHash } = await prisma.$transaction(async (tx) => {
    const old = await tx.apiKey.findFirst({
      where: { id: actor.apiKeyId, isPlatform: true, revokedAt: null },
    });
    const revoked = await tx.apiKey.updateMany({
      where: { id: actor.apiKeyId, isPlatform: true, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (!old || revoked.count !== 1) throw conflict("This platform key was rotated already.");
    const created = await tx.apiKey.create({
      data: {
        organizationId: old.organizationId,
        name: old.name,
        role: "ADMIN",
        isPlatform: true,
        secretHash: hashApiKeySecret(secret),
        secretPrefix: apiKeySecretPrefix(secret),
      },
    });
    return { apiKey: created, oldSecretHash: old.secretHash };
  });
  recentKeys.delete(oldSecretHash);
  return { apiKey, secret };
}
