// Errors as values with a stable code. Rules raise them where they are broken; the GraphQL layer
// turns them into GraphQL errors in one place (src/http/errors.ts).

export type ErrorCode =
  "BAD_USER_INPUT" | "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "RATE_LIMITED";

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** the input field at fault, as a dotted path (e.g. "input.disclosures.termsUrl") */
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { field?: string; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "DomainError";
    this.code = code;
    this.field = options.field;
    this.details = options.details;
  }
}

export const badInput = (field: string, message: string) =>
  new DomainError("BAD_USER_INPUT", `${field}: ${message}`, { field });

export const notFound = (what: string, id: string) =>
  new DomainError("NOT_FOUND", `No ${what} with id "${id}".`);

export const forbidden = (message: string) => new DomainError("FORBIDDEN", message);

export const conflict = (message: string, field?: string) =>
  new DomainError("CONFLICT", message, { field });
