// The consent state machine: what each action does to a subscriber's consent for one campaign.
// Pure: the services feed it the current status and apply what it returns, with one ledger event
// per change and none when nothing changes.
import { conflict } from "./errors.ts";

export type ConsentStatus = "PENDING" | "OPTED_IN" | "OPTED_OUT" | "EXPIRED";
export type ConsentMethod = "WEB_FORM" | "CHECKBOX" | "KEYWORD" | "API" | "IMPORT" | "ADMIN";

export type ConsentAction =
  /** a request to receive messages; `confirmed` says whether it already counts without a "Y" */
  | { kind: "OPT_IN"; confirmed: boolean }
  /** the subscriber's "Y" to a pending double opt-in */
  | { kind: "CONFIRM" }
  | { kind: "OPT_OUT" }
  /** a pending double opt-in that was not confirmed in time */
  | { kind: "EXPIRE" };

/** The status after `action`, or null when the action changes nothing. */
export function nextStatus(
  current: ConsentStatus | null,
  action: ConsentAction,
): ConsentStatus | null {
  switch (action.kind) {
    case "OPT_IN":
      if (current === "OPTED_IN") return null;
      if (current === "PENDING") return action.confirmed ? "OPTED_IN" : null;
      return action.confirmed ? "OPTED_IN" : "PENDING";
    case "CONFIRM":
      if (current === "PENDING") return "OPTED_IN";
      if (current === "OPTED_IN") return null;
      throw conflict(
        current === null
          ? "There is no opt-in to confirm for this number and campaign."
          : `There is no pending opt-in to confirm: the consent is ${current}.`,
      );
    case "OPT_OUT":
      return current === "OPTED_OUT" ? null : "OPTED_OUT";
    case "EXPIRE":
      return current === "PENDING" ? "EXPIRED" : null;
  }
}

/** How an opt-in request reached us, which decides whether it needs the subscriber's "Y". */
export type OptInSource =
  /** an integration, form, import or admin acting for the subscriber */
  | "INTEGRATION"
  /** the subscriber texted the campaign's join keyword */
  | "JOIN_KEYWORD"
  /** the subscriber texted START, UNSTOP or YES (without a pending request) */
  | "RESUBSCRIBE_KEYWORD";

/**
 * Whether an opt-in counts at once. Double opt-in campaigns always ask for a "Y" to requests from
 * integrations and join keywords. A number that opted out is re-added by an integration only
 * after the subscriber confirms, even when the campaign has double opt-in off, while the
 * subscriber's own START/UNSTOP/YES from the handset re-opts in directly (COMPLIANCE.md).
 */
export function optInIsConfirmed(
  source: OptInSource,
  doubleOptIn: boolean,
  current: ConsentStatus | null,
): boolean {
  if (source === "RESUBSCRIBE_KEYWORD") return true;
  if (doubleOptIn) return false;
  if (source === "INTEGRATION" && current === "OPTED_OUT") return false;
  return true;
}
