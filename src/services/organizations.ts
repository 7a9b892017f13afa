// Organizations: the bootstrap organization and platform key of a fresh database, and the
// onboarding of further organizations by the platform key.
import {
  apiKeySecretPrefix,
  hashApiKeySecret,
  newApiKeySecret,
  type Actor,
} from "../domain/api-key.ts";
import { badInput, forbidden } from "../domain/errors.ts";
import type { Prisma } from "../db/client.ts";

// Any constant works; it only has to be the same for every instance bootstrapping one database.
const BOOTSTRAP_LOCK = 4_207_001;

export interface Bootstrap {
  /** true when this call created the first organization */
  created: boolean;
  /** the generated platform key, when one was generated (shown once) */
  generatedSecret: string | null;
}

/**
 * On a database without organizations, creates the default organization and its ADMIN key, which
 * is also the platform key. Safe when several instances start at once.
 */
export async function bootstrapOrganization(
  prisma: Prisma,
  adminKey: string | undefined,
): Promise<Bootstrap> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK}::bigint)`;
    if ((await tx.organization.count()) > 0) return { created: false, generatedSecret: null };
    const secret = adminKey ?? newApiKeySecret();
    await tx.organization.create({
      data: {
        name: "Default organization",
        apiKeys: {
          create: {
            name: "bootstrap admin",
            role: "ADMIN",
            isPlatform: true,
            secretHash: hashApiKeySecret(secret),
            secretPrefix: apiKeySecretPrefix(secret),
          },
        },
      },
    });
    return { created: true, generatedSecret: adminKey ? null : secret };
  });
}

/** Creates an organization with its first ADMIN key; only the platform key may. */
export async function createOrganization(prisma: Prisma, actor: Actor, input: { name: string }) {
  if (!actor.isPlatform) throw forbidden("Only the platform key may create organizations.");
  const name = input.name.trim();
  if (name === "" || name.length > 200) throw badInput("input.name", "must be 1 to 200 characters");
  const secret = newApiKeySecret();
  const organization = await prisma.organization.create({
    data: {
      name,
      apiKeys: {
        create: {
          name: "first admin",
          role: "ADMIN",
          secretHash: hashApiKeySecret(secret),
          secretPrefix: apiKeySecretPrefix(secret),
        },
      },
    },
  });
  return { organization, secret };
}

/** Renames the actor's organization or sets its Twilio auth token (ADMIN keys only). */
export async function updateOrganization(
  prisma: Prisma,
  actor: Actor,
  input: { name?: string | null; twilioAuthToken?: string | null },
) {
  if (actor.role !== "ADMIN") throw forbidden("Only ADMIN keys may change the organization.");
  const name = input.name == null ? undefined : input.name.trim();
  if (name !== undefined && (name === "" || name.length > 200)) {
    throw badInput("input.name", "must be 1 to 200 characters");
  }
  const token = input.twilioAuthToken;
  if (token != null && token !== "" && !/^[A-Za-z0-9]{16,128}$/.test(token)) {
    throw badInput("input.twilioAuthToken", "must be 16 to 128 letters and digits");
  }
  return prisma.organization.update({
    where: { id: actor.organizationId },
    data: { name, twilioAuthToken: token == null ? undefined : token === "" ? null : token },
  });
}
