// What the consent paths count for GET /metrics: consent changes by method and status (once their
// batch committed), inbound messages by intent, send decisions by reason and Twilio signature
// failures. The counters belong to the process (every path that writes or decides counts, whatever
// server serves them); src/http/metrics.ts registers them in its registry.
import { Counter, type Metric } from "prom-client";
import type { SendDecisionReason } from "../domain/send-decision.ts";
import type { LedgerOutcome } from "./ledger-batch.ts";

const consentChanges = new Counter({
  name: "optgraph_consent_changes_total",
  help: "Consent changes committed to the ledger, by method and the status they led to",
  labelNames: ["method", "status"] as const,
  registers: [],
});

const inboundMessages = new Counter({
  name: "optgraph_inbound_messages_total",
  help: "Inbound messages recorded, by the intent their text was classified as",
  labelNames: ["intent"] as const,
  registers: [],
});

const sendDecisions = new Counter({
  name: "optgraph_send_decisions_total",
  help: "canSend and canSendMany answers (exports included), by reason",
  labelNames: ["reason"] as const,
  registers: [],
});

const signatureFailures = new Counter({
  name: "optgraph_twilio_signature_failures_total",
  help: "Twilio webhook requests refused because no organization's token validated the signature",
  registers: [],
});

export const consentMetrics: readonly Metric[] = [
  consentChanges,
  inboundMessages,
  sendDecisions,
  signatureFailures,
];

/** Counts what a committed batch wrote: its consent events and inbound messages. */
export function countCommitted(outcomes: readonly LedgerOutcome[]): void {
  for (const outcome of outcomes) {
    if (outcome.kind !== "WRITTEN") continue;
    for (const event of outcome.events) {
      consentChanges.inc({ method: event.method, status: event.toStatus });
    }
    if (outcome.keywordEvent) inboundMessages.inc({ intent: outcome.keywordEvent.intent });
  }
}

/** each reason's series, bound once: an increment then skips hashing its labels */
const byReason = new Map<SendDecisionReason, Counter.Internal>();
const reasonSeries = (reason: SendDecisionReason) => {
  let series = byReason.get(reason);
  if (!series) byReason.set(reason, (series = sendDecisions.labels({ reason })));
  return series;
};

/** Counts a call's decisions, one increment per reason (a batch holds up to 10,000). */
export function countSendDecisions(decisions: readonly { reason: SendDecisionReason }[]): void {
  if (decisions.length === 1) return reasonSeries(decisions[0].reason).inc();
  const counts: Partial<Record<SendDecisionReason, number>> = {};
  for (const { reason } of decisions) counts[reason] = (counts[reason] ?? 0) + 1;
  for (const [reason, count] of Object.entries(counts)) {
    reasonSeries(reason as SendDecisionReason).inc(count);
  }
}

export function countSignatureFailure(): void {
  signatureFailures.inc();
}
