// The review queue's gauge on GET /metrics: open reviews past their deadline, by mark. A HELD one
// stays overdue only until the next deadline sweep applies it; an APPLIED one (its opt-out stands)
// until someone decides it.
import { Gauge, type Registry } from "prom-client";
import { countOverdueReviews } from "../services/keyword-reviews.ts";
import type { Runtime } from "../services/runtime.ts";

export function registerReviewMetrics(registry: Registry, runtime: Runtime): void {
  new Gauge({
    name: "optgraph_keyword_reviews_overdue",
    help: "Inbound messages marked for review, not decided, past their reviewDueAt (all organizations)",
    labelNames: ["review"] as const,
    registers: [registry],
    async collect() {
      const counts = await countOverdueReviews(runtime);
      this.set({ review: "APPLIED" }, counts.APPLIED);
      this.set({ review: "HELD" }, counts.HELD);
    },
  });
}
