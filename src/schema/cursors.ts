// Connection cursors come back from clients as opaque strings, and whatever one decodes to would
// reach the database as a key. What it decodes to is checked against the key the connection pages
// by first, so a forged or damaged cursor is BAD_USER_INPUT naming the argument, never a failed
// query. A cursor that does not decode at all is refused by Pothos itself, as BAD_USER_INPUT too.
import { parsePrismaCursor } from "@pothos/plugin-prisma";
import { badInput } from "../domain/errors.ts";

/** What a connection pages by: a row id, or an organization's sequence number. */
export type CursorKey = "id" | "organizationId_sequence";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SEQUENCE = 2_147_483_647;

const isRowId = (value: unknown) => typeof value === "string" && UUID.test(value);
const isSequence = (value: unknown) =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= MAX_SEQUENCE;

function holds(key: CursorKey, value: unknown): boolean {
  if (key === "id") return isRowId(value);
  if (Array.isArray(value)) return value.length === 2 && isRowId(value[0]) && isSequence(value[1]);
  if (typeof value !== "object" || value === null) return false;
  const record = value as { organizationId?: unknown; sequence?: unknown };
  return isRowId(record.organizationId) && isSequence(record.sequence);
}

interface PageArgs {
  after?: string | null;
  before?: string | null;
}

const argumentOf = (args: PageArgs) => (args.before != null ? "before" : "after");

function refuse(args: PageArgs): never {
  throw badInput(argumentOf(args), "is not a cursor of this connection");
}

/** A root connection's query, once Pothos has decoded its cursor: refused unless it is one of ours. */
export function checkedPage<Q extends { cursor?: unknown }>(query: Q, args: PageArgs): Q {
  if (query.cursor === undefined) return query;
  const cursor = query.cursor as Record<string, unknown>;
  const [key] = Object.keys(cursor) as CursorKey[];
  if (!holds(key, cursor[key])) refuse(args);
  return query;
}

/** A nested connection's arguments, before its parent's query is built with them. */
export function checkPageArgs(args: PageArgs, key: CursorKey): void {
  const raw = args.before ?? args.after;
  if (raw == null) return;
  if (!holds(key, parsePrismaCursor(raw))) refuse(args);
}
