// The one place where errors become what clients see: domain errors keep their code and message,
// request errors (syntax, validation, variables) become BAD_USER_INPUT, authorization failures
// FORBIDDEN, and everything else is masked as INTERNAL_SERVER_ERROR and logged.
import { ForbiddenError } from "@pothos/plugin-scope-auth";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { isDatabaseUnavailable } from "../db/client.ts";
import { DomainError } from "../domain/errors.ts";
import { LedgerBusyError } from "../services/ledger-gate.ts";
import { answerOf } from "./edge.ts";

const PUBLIC_CODES = new Set([
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
  "INTERNAL_SERVER_ERROR",
]);

/** Codes that change the HTTP status of a GraphQL response (the others answer 200 with errors). */
const TRANSPORT_CODES = new Set(["UNAUTHENTICATED", "RATE_LIMITED"]);

function publicExtensions(error: DomainError): Record<string, unknown> {
  return {
    code: error.code,
    ...(error.field ? { field: error.field } : {}),
    ...(error.details ?? {}),
    ...(TRANSPORT_CODES.has(error.code) ? { http: answerOf(error) } : {}),
  };
}

/** A rule's error as the GraphQL error clients see, for a plugin that answers by itself. */
export function graphQLErrorOf(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  if (error instanceof DomainError) {
    return new GraphQLError(error.message, { extensions: publicExtensions(error) });
  }
  throw error;
}

/** The first error in the chain that is not a GraphQLError wrapper: a rule's, or an unexpected one. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

function withCode(
  error: GraphQLError,
  message: string,
  extensions: Record<string, unknown>,
): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions,
  });
}

/** GraphQL's hints at names the schema has: "Did you mean "viewer"?", "… the enum value "ADMIN"?" */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * A request error with its code mapped onto the public set (anything else is BAD_USER_INPUT), and
 * without suggestions when the schema is hidden: a field's, an argument's or an enum value's, in
 * a document or in variables alike.
 */
export function withPublicCode(error: GraphQLError, hideSchema: boolean): GraphQLError {
  const code = error.extensions.code;
  // graphql-armor reports its limits as syntax errors; they are not.
  let message = error.message.replace(/^Syntax Error: (?=.*\blimit\b)/i, "");
  if (hideSchema) message = message.replace(SUGGESTION, "");
  return withCode(error, message, {
    ...error.extensions,
    code: typeof code === "string" && PUBLIC_CODES.has(code) ? code : "BAD_USER_INPUT",
  });
}

export type ErrorLogger = (error: unknown) => void;

export function createMaskError(logUnexpected: ErrorLogger, hideSchema: boolean) {
  return (error: unknown, message: string): Error => {
    const cause = rootCause(error);
    const graphQLError = error instanceof GraphQLError ? error : new GraphQLError(message);
    if (cause instanceof DomainError) {
      return withCode(graphQLError, cause.message, publicExtensions(cause));
    }
    if (cause instanceof ForbiddenError) {
      return withCode(graphQLError, "This API key's role may not do that.", { code: "FORBIDDEN" });
    }
    if (cause instanceof GraphQLError) {
      // Raised by GraphQL itself or by Yoga for a malformed request: safe to show. The outermost
      // message says where (`Variable "$input" got invalid value … at "input.kind"`).
      return withPublicCode(graphQLError, hideSchema);
    }
    logUnexpected(cause);
    if (cause instanceof LedgerBusyError || isDatabaseUnavailable(cause)) {
      // Overload or a lost database: the client should come back. The code stays in the public
      // set; `retryable` and the 503 tell a client it may send the same request again.
      return withCode(
        graphQLError,
        "The database is busy or unreachable; try again. A mutation sent again with the same idempotencyKey applies at most once.",
        { code: "INTERNAL_SERVER_ERROR", retryable: true, http: { status: 503 } },
      );
    }
    return withCode(graphQLError, "Unexpected error.", { code: "INTERNAL_SERVER_ERROR" });
  };
}

/** Validation failures carry the public BAD_USER_INPUT code too (Yoga does not mask them). */
export function useStableValidationCodes(hideSchema: boolean): Plugin {
  return {
    onValidate:
      () =>
      ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => withPublicCode(error, hideSchema)));
      },
  };
}
