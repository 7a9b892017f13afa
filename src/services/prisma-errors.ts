// Recognizing the database's refusals that callers must see as their own mistakes, not as
// internal errors.

/** Whether an error is Prisma's unique-constraint violation (P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002"
  );
}
