// An inbound SMS as optgraph keeps it: the checks a message must pass before it is recorded, and
// the evidence its consent events carry. The message body is kept as received, with any lone
// surrogate (which no database text can hold) replaced, so what is hashed is what is stored.
import { badInput } from "./errors.ts";

const MAX_BODY = 1600;

export function checkMessageBody(body: string, field: string): string {
  if (body.length > MAX_BODY) throw badInput(field, `must be at most ${MAX_BODY} characters`);
  if (body.includes("\u0000")) throw badInput(field, "must not contain NUL characters");
  return (body as string & { toWellFormed(): string }).toWellFormed();
}

export function checkProviderMessageId(id: string, field: string): string {
  if (id.length < 1 || id.length > 200) throw badInput(field, "must be 1 to 200 characters");
  return id;
}

export interface MessageFacts {
  from: string;
  to: string;
  body: string;
  providerMessageId: string | null;
  receivedAt: Date;
}

/** The message as its consent events cite it. */
export const messageEvidence = (m: MessageFacts) => ({
  from: m.from,
  to: m.to,
  body: m.body,
  providerMessageId: m.providerMessageId,
  receivedAt: m.receivedAt.toISOString(),
});
