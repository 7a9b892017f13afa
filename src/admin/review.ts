// Messages flagged needsReview (revocation in other words, or a keyword inside a longer text):
// optgraph already treated them as opt-outs; a person reads each one and marks it reviewed.
import type { Requester } from "./api.ts";
import { h, time } from "./dom.ts";
import { intentLabel } from "./feed.ts";
import { graphql } from "./generated/gql.ts";
import type { AdminFeedKeywordEventFragment } from "./generated/graphql.ts";

const SHOWN = 50;

const NeedsReview = graphql(`
  query AdminNeedsReview($first: Int!) {
    keywordEvents(needsReview: true, first: $first) {
      edges {
        node {
          ...AdminFeedKeywordEvent
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

const MarkReviewed = graphql(`
  mutation AdminMarkReviewed($id: ID!) {
    markKeywordEventReviewed(input: { id: $id }) {
      keywordEvent {
        id
        reviewedAt
      }
    }
  }
`);

export class ReviewQueue {
  private canReview = false;
  /** false once signed out: answers still on their way are dropped */
  private active = true;

  constructor(
    private readonly request: Requester,
    private readonly list: HTMLUListElement,
    private readonly empty: HTMLElement,
    private readonly status: HTMLElement,
    private readonly heading: HTMLElement,
  ) {}

  /** Loads the queue; `canReview` is false for keys that may not mark messages (VIEWER, PARTNER). */
  async load(canReview: boolean): Promise<void> {
    this.canReview = canReview;
    this.status.textContent = canReview ? "" : "This key may read the queue but not mark messages.";
    try {
      const data = await this.request(NeedsReview, { first: SHOWN });
      if (!this.active) return;
      this.list.replaceChildren(...data.keywordEvents.edges.map(({ node }) => this.item(node)));
      if (data.keywordEvents.pageInfo.hasNextPage) {
        this.status.textContent = `Showing the oldest ${SHOWN} flagged messages.`;
      }
    } catch (error) {
      if (!this.active) return;
      this.status.textContent = `Flagged messages could not be loaded: ${(error as Error).message}`;
    }
    this.updateEmpty();
  }

  /** A message arrived on the live stream: queue it when it is flagged. */
  received(event: AdminFeedKeywordEventFragment): void {
    if (!event.needsReview || event.reviewedAt || this.find(event.id)) return;
    this.list.append(this.item(event));
    this.updateEmpty();
  }

  stop(): void {
    this.active = false;
    this.list.replaceChildren();
    this.status.textContent = "";
    this.updateEmpty();
  }

  private find(id: string): HTMLLIElement | null {
    return this.list.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(id)}"]`);
  }

  private updateEmpty() {
    this.empty.hidden = this.list.children.length > 0;
  }

  private item(event: AdminFeedKeywordEventFragment): HTMLLIElement {
    const campaigns = event.campaigns.map((campaign) => campaign.name).join(", ");
    const item = h(
      "li",
      { class: "review-item", "data-id": event.id },
      h(
        "p",
        { class: "feed-meta" },
        time(event.receivedAt),
        h("span", { class: "phone" }, event.from),
        h("span", {}, intentLabel(event.intent)),
      ),
      h("p", {}, h("q", { class: "message-body" }, event.body)),
      campaigns && h("p", { class: "muted" }, `Applied to ${campaigns}`),
    );
    if (this.canReview) {
      const button = h(
        "button",
        { type: "button", class: "button secondary" },
        "Mark reviewed",
        h("span", { class: "visually-hidden" }, `: message from ${event.from}`),
      );
      button.addEventListener("click", () => void this.markReviewed(event, item, button));
      item.append(button);
    }
    return item;
  }

  private async markReviewed(
    event: AdminFeedKeywordEventFragment,
    item: HTMLLIElement,
    button: HTMLButtonElement,
  ): Promise<void> {
    button.disabled = true;
    try {
      await this.request(MarkReviewed, { id: event.id });
    } catch (error) {
      button.disabled = false;
      this.status.textContent = `Could not mark the message reviewed: ${(error as Error).message}`;
      return;
    }
    // Keep the keyboard where it was: on the next message's button, else on the section heading.
    const next = (item.nextElementSibling ?? item.previousElementSibling)?.querySelector("button");
    item.remove();
    this.updateEmpty();
    this.status.textContent = `Marked the message from ${event.from} reviewed.`;
    (next ?? this.heading).focus();
  }
}
