// The consent state machine as a table: every state × every action, and when an opt-in counts at
// once or needs the subscriber's "Y".
import { describe, expect, it } from "vitest";
import {
  nextStatus,
  optInIsConfirmed,
  type ConsentAction,
  type ConsentStatus,
  type OptInSource,
} from "../../src/domain/consent.ts";
import { DomainError } from "../../src/domain/errors.ts";

type From = ConsentStatus | null;
const confirmedOptIn: ConsentAction = { kind: "OPT_IN", confirmed: true };
const unconfirmedOptIn: ConsentAction = { kind: "OPT_IN", confirmed: false };
const CONFLICT = "CONFLICT";

const table: [From, string, ConsentAction, ConsentStatus | null | typeof CONFLICT][] = [
  [null, "opt-in (counts)", confirmedOptIn, "OPTED_IN"],
  [null, "opt-in (needs Y)", unconfirmedOptIn, "PENDING"],
  [null, "confirm", { kind: "CONFIRM" }, CONFLICT],
  [null, "opt-out", { kind: "OPT_OUT" }, "OPTED_OUT"],
  [null, "expire", { kind: "EXPIRE" }, null],
  ["PENDING", "opt-in (counts)", confirmedOptIn, "OPTED_IN"],
  ["PENDING", "opt-in (needs Y)", unconfirmedOptIn, null],
  ["PENDING", "confirm", { kind: "CONFIRM" }, "OPTED_IN"],
  ["PENDING", "opt-out", { kind: "OPT_OUT" }, "OPTED_OUT"],
  ["PENDING", "expire", { kind: "EXPIRE" }, "EXPIRED"],
  ["OPTED_IN", "opt-in (counts)", confirmedOptIn, null],
  ["OPTED_IN", "opt-in (needs Y)", unconfirmedOptIn, null],
  ["OPTED_IN", "confirm", { kind: "CONFIRM" }, null],
  ["OPTED_IN", "opt-out", { kind: "OPT_OUT" }, "OPTED_OUT"],
  ["OPTED_IN", "expire", { kind: "EXPIRE" }, null],
  ["OPTED_OUT", "opt-in (counts)", confirmedOptIn, "OPTED_IN"],
  ["OPTED_OUT", "opt-in (needs Y)", unconfirmedOptIn, "PENDING"],
  ["OPTED_OUT", "confirm", { kind: "CONFIRM" }, CONFLICT],
  ["OPTED_OUT", "opt-out", { kind: "OPT_OUT" }, null],
  ["OPTED_OUT", "expire", { kind: "EXPIRE" }, null],
  ["EXPIRED", "opt-in (counts)", confirmedOptIn, "OPTED_IN"],
  ["EXPIRED", "opt-in (needs Y)", unconfirmedOptIn, "PENDING"],
  ["EXPIRED", "confirm", { kind: "CONFIRM" }, CONFLICT],
  ["EXPIRED", "opt-out", { kind: "OPT_OUT" }, "OPTED_OUT"],
  ["EXPIRED", "expire", { kind: "EXPIRE" }, null],
];

describe("consent state machine", () => {
  it.each(table)("%s + %s → %s", (from, _label, action, expected) => {
    if (expected === CONFLICT) {
      expect(() => nextStatus(from, action)).toThrow(DomainError);
      try {
        nextStatus(from, action);
      } catch (error) {
        expect((error as DomainError).code).toBe("CONFLICT");
      }
    } else {
      expect(nextStatus(from, action)).toBe(expected);
    }
  });
});

describe("whether an opt-in counts without a Y", () => {
  const cases: [OptInSource, boolean, From, boolean][] = [
    ["INTEGRATION", false, null, true],
    ["INTEGRATION", true, null, false],
    ["INTEGRATION", false, "OPTED_OUT", false], // an integration re-adding an opted-out number
    ["INTEGRATION", false, "EXPIRED", true],
    ["JOIN_KEYWORD", false, null, true],
    ["JOIN_KEYWORD", true, null, false],
    ["JOIN_KEYWORD", false, "OPTED_OUT", true], // the subscriber's own text
    ["RESUBSCRIBE_KEYWORD", true, "OPTED_OUT", true], // START / UNSTOP from the handset
    ["RESUBSCRIBE_KEYWORD", false, null, true],
  ];
  it.each(cases)("%s, double opt-in %s, from %s → %s", (source, doubleOptIn, current, expected) => {
    expect(optInIsConfirmed(source, doubleOptIn, current)).toBe(expected);
  });
});
