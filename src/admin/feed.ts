// The live feed: consent events and inbound messages, newest first, in a list that assistive
// technology reads out as entries arrive (role="log"). A subscriber's number opens their timeline.
import { byMethod, h, time, transition } from "./dom.ts";
import type { KeywordIntent } from "./generated/graphql.ts";
import type { LiveConsentEvent, LiveKeywordEvent } from "./live.ts";

const MAX_ENTRIES = 100;

const INTENT_LABELS: Record<KeywordIntent, string> = {
  OPT_OUT: "Opt-out",
  OPT_OUT_ALL: "Opt-out of all",
  OPT_IN: "Join",
  CONFIRM: "Confirmation",
  HELP: "Help request",
  UNKNOWN: "No keyword",
};

export const intentLabel = (intent: KeywordIntent) => INTENT_LABELS[intent];

export type FeedEntry =
  { kind: "consent"; event: LiveConsentEvent } | { kind: "message"; event: LiveKeywordEvent };

const entryTime = (entry: FeedEntry) =>
  entry.kind === "consent" ? entry.event.occurredAt : entry.event.receivedAt;

export class Feed {
  constructor(
    private readonly list: HTMLOListElement,
    private readonly empty: HTMLElement,
    private readonly onLookup: (phone: string) => void,
  ) {}

  /** Shows what happened before the page opened, without reading it all out. */
  start(entries: FeedEntry[]): void {
    this.list.replaceChildren();
    this.list.setAttribute("aria-live", "off");
    const oldestFirst = [...entries].sort((a, b) => entryTime(a).localeCompare(entryTime(b)));
    for (const entry of oldestFirst) this.add(entry);
    this.list.setAttribute("aria-live", "polite");
  }

  add(entry: FeedEntry): void {
    this.list.prepend(
      entry.kind === "consent" ? this.consentItem(entry.event) : this.messageItem(entry.event),
    );
    while (this.list.children.length > MAX_ENTRIES) this.list.lastElementChild?.remove();
    this.empty.hidden = this.list.children.length > 0;
  }

  clear(): void {
    this.list.replaceChildren();
    this.empty.hidden = false;
  }

  private phoneButton(phone: string): HTMLButtonElement {
    const button = h(
      "button",
      { type: "button", class: "link phone" },
      h("span", { class: "visually-hidden" }, "Look up "),
      phone,
    );
    button.addEventListener("click", () => this.onLookup(phone));
    return button;
  }

  private consentItem(event: LiveConsentEvent): HTMLLIElement {
    return h(
      "li",
      { class: "feed-entry", "data-kind": "consent", "data-sequence": event.sequence },
      h(
        "p",
        { class: "feed-meta" },
        time(event.occurredAt, true),
        h("span", { class: "tag" }, "Consent"),
        h("span", { class: "campaign-name" }, event.campaign?.name ?? "No campaign"),
      ),
      h(
        "p",
        { class: "feed-body" },
        this.phoneButton(event.subscriber.phone),
        transition(event.fromStatus, event.toStatus),
        h("span", { class: "muted" }, byMethod(event.method)),
      ),
    );
  }

  private messageItem(event: LiveKeywordEvent): HTMLLIElement {
    const flagged = event.needsReview && !event.reviewedAt;
    return h(
      "li",
      { class: "feed-entry", "data-kind": "message", "data-sequence": event.sequence },
      h(
        "p",
        { class: "feed-meta" },
        time(event.receivedAt, true),
        h("span", { class: "tag tag-message" }, "Message"),
        h("span", {}, intentLabel(event.intent)),
        flagged && h("span", { class: "tag tag-review" }, "Needs review"),
      ),
      h(
        "p",
        { class: "feed-body" },
        this.phoneButton(event.from),
        h("q", { class: "message-body" }, event.body),
      ),
    );
  }
}
