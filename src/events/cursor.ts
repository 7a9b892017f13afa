// Stream cursors: an opaque string naming a position in an organization's ledger (or keyword
// log). A client hands it back as `after` to resume right behind that position.
import { badInput } from "../domain/errors.ts";

export type CursorKind = "consent" | "keyword";
const TAG: Record<CursorKind, string> = { consent: "ce", keyword: "ke" };

export function encodeCursor(kind: CursorKind, sequence: number): string {
  return Buffer.from(`${TAG[kind]}:${sequence}`, "utf8").toString("base64url");
}

/** The sequence a cursor points at; BAD_USER_INPUT naming `field` when it is not such a cursor. */
export function decodeCursor(kind: CursorKind, cursor: string, field = "after"): number {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^([a-z]{2}):(\d{1,15})$/.exec(text);
  if (!match || match[1] !== TAG[kind]) {
    throw badInput(
      field,
      `"${cursor}" is not a ${kind === "consent" ? "consent event" : "keyword event"} cursor`,
    );
  }
  return Number(match[2]);
}
