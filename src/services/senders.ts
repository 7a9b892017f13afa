// Senders: the numbers an organization sends from and receives on.
import { canConfigure, type Actor } from "../domain/api-key.ts";
import { conflict, forbidden } from "../domain/errors.ts";
import { normalizeSenderAddress, type SenderKind } from "../domain/phone.ts";
import type { Prisma } from "../db/client.ts";
import { isUniqueViolation } from "./prisma-errors.ts";

export async function createSender(
  prisma: Prisma,
  actor: Actor,
  input: { address: string; kind: SenderKind },
  defaultRegion: string,
) {
  if (!canConfigure(actor)) throw forbidden("Only ADMIN and OPERATOR keys may create senders.");
  const address = normalizeSenderAddress(input.address, input.kind, defaultRegion);
  try {
    return await prisma.sender.create({
      data: { organizationId: actor.organizationId, address, kind: input.kind },
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      // Only the caller's own organization can hold it: another's registration is not a conflict.
      throw conflict(
        `A sender with address ${address} is already registered in this organization.`,
        "input.address",
      );
    }
    throw error;
  }
}
