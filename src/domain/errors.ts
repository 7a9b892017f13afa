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

/** How messages name each kind of object, by the GraphQL type whose global IDs clients hold. */
export const OBJECT_LABELS: Readonly<Record<string, string>> = {
  ApiKey: "API key",
  Campaign: "campaign",
  Consent: "consent",
  ConsentEvent: "consent event",
  ImportJob: "import job",
  KeywordEvent: "keyword event",
  Organization: "organization",
  Sender: "sender",
  Subscriber: "subscriber",
};

const ROW_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TYPE_OF_LABEL = new Map(Object.entries(OBJECT_LABELS).map(([type, label]) => [label, type]));

/**
 * The id as the client knows it: a database row id (which services hold) becomes the global ID
 * the client sent (base64 of `Type:rowId`, as Relay encodes it); anything else is shown as given.
 */
function clientId(what: string, id: string): string {
  const type = TYPE_OF_LABEL.get(what);
  return type && ROW_ID.test(id) ? Buffer.from(`${type}:${id}`, "utf8").toString("base64") : id;
}

/**
 * `No campaign with id "…".` for a row id a service looked up (named by its global ID), or by
 * another key: `No sender with address "+1…".`
 */
export const notFound = (what: string, id: string, by = "id") =>
  notFoundAsSent(what, by === "id" ? clientId(what, id) : id, by);

/** NOT_FOUND naming the value exactly as the client sent it. */
export const notFoundAsSent = (what: string, value: string, by = "id") =>
  new DomainError("NOT_FOUND", `No ${what} with ${by} "${value}".`);

export const forbidden = (message: string) => new DomainError("FORBIDDEN", message);

export const conflict = (message: string, field?: string) =>
  new DomainError("CONFLICT", message, { field });
