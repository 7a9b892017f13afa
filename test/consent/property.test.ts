// Property: for random sequences of actions on one subscriber × one campaign, through the GraphQL
// API, the consent always equals a replay of its ledger events, every event starts where the
// previous one ended, and each step does what a reference model of the rules says (including
// which confirmations are CONFLICTs and which calls change nothing).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ConsentStatus } from "../generated/graphql.ts";
import { createCampaign } from "../support/fixtures.ts";
import { execute, newOrganization } from "../support/graphql.ts";
import {
  ConfirmOptIn,
  OptIn,
  OptOut,
  confirmation,
  consentOf,
  expireNow,
  ledger,
  verifyLedger,
} from "./ops.ts";

const SEED = Number(process.env.CONSENT_PROPERTY_SEED ?? 20261128);
const NUM_RUNS = Number(process.env.CONSENT_PROPERTY_RUNS ?? 15);
const PHONE = "+14155550188";

type Action =
  | { kind: "optIn"; method: "API" | "WEB_FORM" }
  | { kind: "confirmOptIn" }
  | { kind: "optOut" }
  | { kind: "expire" };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant("optIn" as const),
    method: fc.constantFrom("API" as const, "WEB_FORM" as const),
  }),
  fc.constant({ kind: "confirmOptIn" as const }),
  fc.constant({ kind: "optOut" as const }),
  fc.constant({ kind: "expire" as const }),
);

/** The rules as a reference model: the status, and the last settled answer (in or out). */
interface Model {
  status: ConsentStatus | null;
  settled: "OPTED_IN" | "OPTED_OUT" | null;
}

function step(model: Model, a: Action, doubleOptIn: boolean): Model | "CONFLICT" {
  const next = (status: ConsentStatus): Model => ({
    status,
    settled: status === "OPTED_IN" || status === "OPTED_OUT" ? status : model.settled,
  });
  switch (a.kind) {
    case "optIn": {
      if (model.status === "OPTED_IN") return model;
      // an integration's opt-in counts at once only without double opt-in and when the number's
      // last answer was not an opt-out
      const counts = !doubleOptIn && model.settled !== "OPTED_OUT";
      if (model.status === "PENDING") return counts ? next("OPTED_IN") : model;
      return next(counts ? "OPTED_IN" : "PENDING");
    }
    case "confirmOptIn":
      if (model.status === "PENDING") return next("OPTED_IN");
      if (model.status === "OPTED_IN") return model;
      return "CONFLICT";
    case "optOut":
      return model.status === "OPTED_OUT" ? model : next("OPTED_OUT");
    case "expire":
      return model.status === "PENDING" ? next("EXPIRED") : model;
  }
}

/** Performs one action over the API; returns whether it changed something, or its error code. */
async function perform(key: string, campaignId: string, a: Action): Promise<boolean | string> {
  const base = { phone: PHONE, campaignId };
  const outcome =
    a.kind === "optIn"
      ? await execute(key, OptIn, { input: { ...base, method: a.method } }).then((r) => ({
          errors: r.errors,
          changed: r.data?.optIn.changed,
        }))
      : a.kind === "confirmOptIn"
        ? await execute(key, ConfirmOptIn, { input: confirmation(base) }).then((r) => ({
            errors: r.errors,
            changed: r.data?.confirmOptIn.changed,
          }))
        : a.kind === "optOut"
          ? await execute(key, OptOut, { input: { ...base, method: "API" } }).then((r) => ({
              errors: r.errors,
              changed: r.data?.optOut.changed,
            }))
          : null;
  if (outcome === null) {
    const consent = await consentOf(key, PHONE, campaignId);
    if (!consent) return false;
    const { updated } = await expireNow(consent.id);
    return updated > 0;
  }
  if (outcome.errors?.length)
    return String(outcome.errors[0].extensions?.code ?? outcome.errors[0].message);
  return outcome.changed!;
}

describe("property: the consent is a replay of its ledger", () => {
  it(`holds for random action sequences (seed ${SEED}, ${NUM_RUNS} runs)`, async () => {
    console.log(`property seed: ${SEED} (replay with CONSENT_PROPERTY_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(action, { maxLength: 15 }),
        async (doubleOptIn, actions) => {
          const org = await newOrganization();
          const key = org.adminKey;
          const campaign = await createCampaign(key, { doubleOptIn });
          let model: Model = { status: null, settled: null };
          let expectedEvents = 0;

          for (const [i, a] of actions.entries()) {
            const predicted = step(model, a, doubleOptIn);
            const actual = await perform(key, campaign.id, a);
            const where = `step ${i} ${JSON.stringify(a)} from ${model.status} (double opt-in ${doubleOptIn})`;
            if (predicted === "CONFLICT") {
              expect(actual, where).toBe("CONFLICT");
              continue;
            }
            expect(typeof actual, `${where}: ${String(actual)}`).toBe("boolean");
            expect(actual, where).toBe(predicted.status !== model.status);
            if (actual) expectedEvents++;
            model = predicted;
            const consent = await consentOf(key, PHONE, campaign.id);
            expect(consent?.status ?? null, where).toBe(model.status);
          }

          // the consent equals the fold of its ledger, each event starting where the last ended
          const events = await ledger(key);
          expect(events).toHaveLength(expectedEvents);
          let replayed: ConsentStatus | null = null;
          for (const event of events) {
            expect(event.fromStatus ?? null).toBe(replayed);
            replayed = event.toStatus;
          }
          const consent = await consentOf(key, PHONE, campaign.id);
          expect(consent?.status ?? null).toBe(replayed);
          expect(await verifyLedger(key)).toMatchObject({ ok: true, eventsChecked: events.length });
        },
      ),
      { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
    );
  });
});
