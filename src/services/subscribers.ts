// Changing what optgraph knows of where a subscriber is (time zone, state of residence, locale).
// Not a consent change, so not a ledger event: the values are facts canSend reads at send time
// (docs/COMPLIANCE.md, "Send rules"). A key changes only the subscribers it may see (a PARTNER:
// those with a consent in one of its campaigns); VIEWER keys change nothing.
import { newId } from "../db/ids.ts";
import type { SqlQuery } from "../db/client.ts";
import { canUpdateSubscriber, type Actor } from "../domain/api-key.ts";
import { badInput, forbidden, notFoundAsSent } from "../domain/errors.ts";
import { normalizePhone } from "../domain/phone.ts";
import { readLocationChange, type LocationChange } from "../domain/subscriber-location.ts";
import type { Runtime } from "./runtime.ts";
import { visible } from "./visibility.ts";

export interface UpdateSubscriberInput {
  /** the database id, or null when the client's id cannot be one of ours */
  id?: string | null;
  /** the id as the client sent it, for NOT_FOUND */
  clientId?: string | null;
  phone?: string | null;
  timeZone?: string | null;
  state?: string | null;
  locale?: string | null;
}

export async function updateSubscriber(
  runtime: Runtime,
  actor: Actor,
  input: UpdateSubscriberInput,
) {
  if (!canUpdateSubscriber(actor)) throw forbidden("VIEWER keys may not change subscribers.");
  const byId = input.clientId != null;
  if (byId === (input.phone != null))
    throw badInput("input.id", "give exactly one of id and phone");
  const change = readLocationChange(input, "input.");
  if (Object.keys(change).length === 0) {
    throw badInput("input", "give at least one of timeZone, state and locale (null clears one)");
  }
  const phone = byId
    ? null
    : normalizePhone(input.phone!, runtime.config.defaultRegion, "input.phone");
  const missing = () =>
    phone === null
      ? notFoundAsSent("subscriber", input.clientId!)
      : notFoundAsSent("subscriber", phone, "phone");
  if (byId && !input.id) throw missing();

  const where = {
    AND: [phone === null ? { id: input.id! } : { phone }, visible.subscriber(actor)],
  };
  // one statement: the visibility rule and the change together
  const { count } = await runtime.prisma.subscriber.updateMany({ where, data: change });
  if (count === 0) throw missing();
  // every instance's send cache reads the new location at once (its trigger-moved revision would
  // otherwise be noticed within the cache's freshness window)
  runtime.wakeups.publish(actor.organizationId);
  return runtime.prisma.subscriber.findFirstOrThrow({ where });
}

/**
 * Sets what an import's rows say of where their subscribers are, set-wise in the caller's
 * transaction: one row per number (the caller picks which), creating a subscriber that does not
 * exist yet. A value an entry does not give is left as it is (an import never clears one).
 */
export async function writeSubscriberLocations(
  sql: SqlQuery,
  organizationId: string,
  entries: readonly { phone: string; location: LocationChange }[],
  createdAt: Date,
): Promise<void> {
  if (entries.length === 0) return;
  await sql(
    `insert into "Subscriber" (id, "organizationId", phone, "createdAt", timezone, state, locale)
     select i.id, $1::uuid, i.phone, $6::timestamp(3), i.timezone, i.state, i.locale
     from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $7::text[])
          as i(id, phone, timezone, state, locale)
     on conflict ("organizationId", phone) do update set
       timezone = coalesce(excluded.timezone, "Subscriber".timezone),
       state = coalesce(excluded.state, "Subscriber".state),
       locale = coalesce(excluded.locale, "Subscriber".locale)`,
    [
      organizationId,
      entries.map(() => newId()),
      entries.map((e) => e.phone),
      entries.map((e) => e.location.timezone ?? null),
      entries.map((e) => e.location.state ?? null),
      createdAt.toISOString(),
      entries.map((e) => e.location.locale ?? null),
    ],
  );
}
