// Global IDs in arguments: decoded once, at the edge, into the database id of the expected type.
// An ID that is malformed, of another type or of another tenant reads exactly like an unknown one.
import { decodeGlobalID } from "@pothos/plugin-relay";
import { notFoundAsSent, OBJECT_LABELS } from "../domain/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Never a real row's id (ids are UUIDv7); used so that a malformed id simply matches nothing. */
export const NO_ROW_ID = "00000000-0000-0000-0000-000000000000";

export const asRowId = (id: string) => (UUID.test(id) ? id : NO_ROW_ID);

export function rowIdOf(typename: string, globalId: string): string {
  let decoded: { typename: string; id: string } | null = null;
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    decoded = null;
  }
  if (!decoded || decoded.typename !== typename || !UUID.test(decoded.id)) {
    throw notFoundAsSent(OBJECT_LABELS[typename] ?? typename, globalId);
  }
  return decoded.id;
}

/** The database id behind a global ID of the given type, or null when it cannot be one. */
export function rowIdOrNull(typename: string, globalId: string): string | null {
  try {
    return rowIdOf(typename, globalId);
  } catch {
    return null;
  }
}

/**
 * The id to filter a list by: undefined when the argument is absent (no filter), the row id when
 * it is one of ours, and an id matching nothing when it is not (an empty string included).
 */
export function filterId(
  typename: string,
  globalId: string | number | null | undefined,
): string | undefined {
  if (globalId == null) return undefined;
  return rowIdOrNull(typename, String(globalId)) ?? NO_ROW_ID;
}
