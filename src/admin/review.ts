// The review queue: messages marked for review, the one due first first, each with its deadline
// (the FCC's 10 business days less the configured margin). An APPLIED one is an opt-out read from
// other words, already applied; a HELD one is an opt-out word that read as no revocation, with
// nothing changed (applied at the deadline unless someone decides). A person writes a note and
// decides: a revocation, or not one (which restores what an applied opt-out ended).
import type { Requester } from "./api.ts";
import { h, time } from "./dom.ts";
import { intentLabel } from "./feed.ts";
import { graphql } from "./generated/gql.ts";
import type {
  AdminFeedKeywordEventFragment,
  AdminReviewItemFragment,
  ReviewDecision,
} from "./generated/graphql.ts";

const SHOWN = 50;

graphql(`
  fragment AdminReviewItem on KeywordEvent {
    ...AdminFeedKeywordEvent
    review
    heldIntent
    reviewDueAt
  }
`);

const OpenReviews = graphql(`
  query AdminOpenReviews($first: Int!) {
    keywordReviews(first: $first) {
      edges {
        node {
          ...AdminReviewItem
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

const Resolve = graphql(`
  mutation AdminResolveReview($input: ResolveKeywordReviewInput!) {
    resolveKeywordReview(input: $input) {
      keywordEvent {
        id
        reviewDecision
      }
      consentEvents {
        id
      }
    }
  }
`);

/** The two answers, worded for what each does to this kind of message. */
const CHOICES: Record<"APPLIED" | "HELD", { decision: ReviewDecision; label: string }[]> = {
  APPLIED: [
    { decision: "REVOCATION", label: "Revocation: keep the opt-out" },
    { decision: "NOT_REVOCATION", label: "Not a revocation: restore" },
  ],
  HELD: [
    { decision: "REVOCATION", label: "Revocation: apply the opt-out" },
    { decision: "NOT_REVOCATION", label: "Not a revocation" },
  ],
};

export class ReviewQueue {
  private canReview = false;
  /** false once signed out: answers still on their way are dropped */
  private active = true;
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly request: Requester,
    private readonly list: HTMLUListElement,
    private readonly empty: HTMLElement,
    private readonly status: HTMLElement,
    private readonly heading: HTMLElement,
  ) {}

  /** Loads the queue; `canReview` is false for keys that may not decide (VIEWER). */
  load(canReview: boolean): Promise<void> {
    this.canReview = canReview;
    this.status.textContent = canReview ? "" : "This key may read the queue but not decide.";
    return this.reload();
  }

  /** A message arrived on the live stream: read the queue again when it is marked for review. */
  received(event: AdminFeedKeywordEventFragment): void {
    if (!event.needsReview || event.reviewedAt || this.find(event.id)) return;
    void this.reload();
  }

  stop(): void {
    this.active = false;
    this.list.replaceChildren();
    this.status.textContent = "";
    this.updateEmpty();
  }

  private reload(): Promise<void> {
    this.loading = this.loading.then(async () => {
      try {
        const data = await this.request(OpenReviews, { first: SHOWN });
        if (!this.active) return;
        this.list.replaceChildren(...data.keywordReviews.edges.map(({ node }) => this.item(node)));
        if (data.keywordReviews.pageInfo.hasNextPage) {
          this.status.textContent = `Showing the ${SHOWN} messages due first.`;
        }
      } catch (error) {
        if (!this.active) return;
        this.status.textContent = `Flagged messages could not be loaded: ${(error as Error).message}`;
      }
      this.updateEmpty();
    });
    return this.loading;
  }

  private find(id: string): HTMLLIElement | null {
    return this.list.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(id)}"]`);
  }

  private updateEmpty() {
    this.empty.hidden = this.list.children.length > 0;
  }

  private item(event: AdminReviewItemFragment): HTMLLIElement {
    const campaigns = event.campaigns.map((campaign) => campaign.name).join(", ");
    const held = event.review === "HELD";
    const overdue = event.reviewDueAt !== null && new Date(event.reviewDueAt) < new Date();
    const item = h(
      "li",
      { class: "review-item", "data-id": event.id, "data-review": event.review },
      h(
        "p",
        { class: "feed-meta" },
        time(event.receivedAt),
        h("span", { class: "phone" }, event.from),
        h("span", {}, held ? "Held: nothing changed" : intentLabel(event.intent)),
      ),
      h("p", {}, h("q", { class: "message-body" }, event.body)),
      event.reviewDueAt &&
        h(
          "p",
          { class: overdue ? "review-due overdue" : "review-due" },
          overdue ? "Overdue since " : "Decide by ",
          time(event.reviewDueAt),
        ),
      campaigns &&
        h(
          "p",
          { class: "muted" },
          held ? `Would opt out of ${campaigns}` : `Applied to ${campaigns}`,
        ),
    );
    if (this.canReview) {
      const noteId = `review-note-${event.id}`;
      const note = h("textarea", { id: noteId, rows: 2, maxlength: 2000 });
      const buttons = (held ? CHOICES.HELD : CHOICES.APPLIED).map((choice) => {
        const button = h(
          "button",
          {
            type: "button",
            class: choice.decision === "REVOCATION" ? "button" : "button secondary",
            "data-decision": choice.decision,
          },
          choice.label,
          h("span", { class: "visually-hidden" }, `: message from ${event.from}`),
        );
        button.addEventListener(
          "click",
          () => void this.decide(event, item, choice.decision, note, buttons),
        );
        return button;
      });
      item.append(
        h(
          "label",
          { for: noteId },
          "Note",
          h("span", { class: "visually-hidden" }, ` on the message from ${event.from}`),
        ),
        note,
        h("div", { class: "review-actions" }, ...buttons),
      );
    }
    return item;
  }

  private async decide(
    event: AdminReviewItemFragment,
    item: HTMLLIElement,
    decision: ReviewDecision,
    note: HTMLTextAreaElement,
    buttons: HTMLButtonElement[],
  ): Promise<void> {
    for (const button of buttons) button.disabled = true;
    let changes: number;
    try {
      const data = await this.request(Resolve, {
        input: { id: event.id, decision, note: note.value.trim() || null },
      });
      changes = data.resolveKeywordReview.consentEvents.length;
    } catch (error) {
      for (const button of buttons) button.disabled = false;
      this.status.textContent = `Could not record the decision: ${(error as Error).message}`;
      return;
    }
    // Keep the keyboard where it was: on the next message's first button, else on the heading.
    const next = (item.nextElementSibling ?? item.previousElementSibling)?.querySelector("button");
    item.remove();
    this.updateEmpty();
    const what = decision === "REVOCATION" ? "a revocation" : "not a revocation";
    this.status.textContent = `Decided the message from ${event.from} is ${what} (${changes} consent ${changes === 1 ? "change" : "changes"}).`;
    (next ?? this.heading).focus();
  }
}
