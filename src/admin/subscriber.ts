// A subscriber's record, looked up by phone number: current consents, the timeline of every
// ledger event with its hashes, the inbound message behind each keyword change, the disclosure
// versions the consents were given under, and whether the organization's hash chain verifies.
import { GraphQLRequestError, type Requester } from "./api.ts";
import { byMethod, count, fill, h, hash, statusPill, time, transition, type Child } from "./dom.ts";
import { graphql } from "./generated/gql.ts";
import type { AdminSubscriberQuery, AdminTimelineEventFragment } from "./generated/graphql.ts";

const PAGE = 50;
const REFRESH_DELAY_MS = 150;

graphql(`
  fragment AdminTimelineEvent on ConsentEvent {
    id
    sequence
    occurredAt
    recordedAt
    fromStatus
    toStatus
    method
    evidence
    hash
    prevHash
    campaign {
      id
      name
    }
    disclosures {
      version
      programName
      consentLanguage
      consentLanguageHash
      createdAt
    }
  }
`);

const Subscriber = graphql(`
  query AdminSubscriber($phone: String!, $first: Int!) {
    subscriber(phone: $phone) {
      id
      phone
      createdAt
      timezone
      locale
      consents {
        id
        status
        method
        updatedAt
        expiresAt
        campaign {
          id
          name
        }
      }
      history(first: $first) {
        edges {
          node {
            ...AdminTimelineEvent
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
    verifyLedger {
      ok
      eventsChecked
      firstBrokenEventId
    }
  }
`);

const MoreHistory = graphql(`
  query AdminSubscriberHistory($id: ID!, $first: Int!, $after: String!) {
    node(id: $id) {
      ... on Subscriber {
        history(first: $first, after: $after) {
          edges {
            node {
              ...AdminTimelineEvent
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  }
`);

type Found = NonNullable<AdminSubscriberQuery["subscriber"]>;
type Verification = AdminSubscriberQuery["verifyLedger"];

interface InboundMessage {
  from?: string;
  to?: string;
  body: string;
  receivedAt?: string;
}

/** The inbound SMS a KEYWORD event keeps as its evidence. */
function messageOf(evidence: unknown): InboundMessage | null {
  const message = (evidence as { message?: unknown } | null)?.message as
    Record<string, unknown> | undefined;
  if (!message || typeof message.body !== "string") return null;
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  return {
    body: message.body,
    from: text(message.from),
    to: text(message.to),
    receivedAt: text(message.receivedAt),
  };
}

export class SubscriberLookup {
  private shown: { id: string; phone: string } | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private lookups = 0;
  private readonly onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    void this.lookUp(this.phoneInput.value, { focus: true });
  };

  constructor(
    private readonly request: Requester,
    private readonly form: HTMLFormElement,
    private readonly phoneInput: HTMLInputElement,
    private readonly status: HTMLElement,
    private readonly result: HTMLElement,
  ) {
    form.addEventListener("submit", this.onSubmit);
  }

  /** Shows a number's record (from the form or a number in the feed). */
  async lookUp(phone: string, { focus }: { focus: boolean }): Promise<void> {
    const wanted = phone.trim();
    this.phoneInput.value = wanted;
    if (!wanted) {
      this.status.textContent = "Enter a phone number to look up.";
      this.phoneInput.focus();
      return;
    }
    const lookup = ++this.lookups;
    this.status.textContent = `Looking up ${wanted}…`;
    this.result.setAttribute("aria-busy", "true");
    try {
      const data = await this.request(Subscriber, { phone: wanted, first: PAGE });
      if (lookup !== this.lookups) return; // a newer lookup started meanwhile
      if (!data.subscriber) {
        this.shown = null;
        this.result.replaceChildren();
        this.status.textContent = `No subscriber with the number ${wanted} in this organization.`;
        return;
      }
      this.shown = { id: data.subscriber.id, phone: data.subscriber.phone };
      this.render(data.subscriber, data.verifyLedger);
      const { consents, history } = data.subscriber;
      const more = history.pageInfo.hasNextPage ? " (more to load)" : "";
      this.status.textContent = `${data.subscriber.phone}: ${count(consents.length, "consent")}, ${count(history.edges.length, "ledger event")}${more}.`;
      if (focus) this.result.querySelector<HTMLElement>("h3")?.focus();
    } catch (error) {
      if (lookup !== this.lookups) return;
      const field = error instanceof GraphQLRequestError && error.code === "BAD_USER_INPUT";
      this.status.textContent = field
        ? `That is not a phone number optgraph can read: ${(error as Error).message}`
        : `The lookup failed: ${(error as Error).message}`;
    } finally {
      if (lookup === this.lookups) this.result.removeAttribute("aria-busy");
    }
  }

  /**
   * A consent event committed for this subscriber: re-read the open record, unless the keyboard is
   * inside it (redrawing would take the focus away); then say that it changed.
   */
  changed(subscriberId: string): void {
    if (this.shown?.id !== subscriberId) return;
    clearTimeout(this.refreshTimer);
    const { phone } = this.shown;
    this.refreshTimer = setTimeout(() => {
      if (this.result.contains(document.activeElement)) {
        this.status.textContent = `${phone} has new ledger events: look up again to see them.`;
      } else {
        void this.lookUp(phone, { focus: false });
      }
    }, REFRESH_DELAY_MS);
  }

  stop(): void {
    this.form.removeEventListener("submit", this.onSubmit);
    clearTimeout(this.refreshTimer);
    this.lookups++;
    this.shown = null;
    this.phoneInput.value = "";
    this.status.textContent = "";
    this.result.replaceChildren();
  }

  private render(subscriber: Found, verification: Verification): void {
    const events = subscriber.history.edges.map(({ node }) => node);
    const timeline = h("ol", { class: "timeline" });
    const disclosures = h("ul", { class: "disclosures" });
    const seenDisclosures = new Set<string>();
    const addEvents = (page: AdminTimelineEventFragment[]) => {
      timeline.append(...page.map((event) => this.timelineEvent(event, verification)));
      for (const event of page) {
        const key = `${event.campaign?.id}:${event.disclosures?.version}`;
        if (!event.disclosures || seenDisclosures.has(key)) continue;
        seenDisclosures.add(key);
        disclosures.append(disclosureItem(event.campaign?.name, event.disclosures));
      }
    };
    addEvents(events);

    const more = h("button", { type: "button", class: "button secondary" }, "Load more events");
    let endCursor = subscriber.history.pageInfo.endCursor;
    more.hidden = !subscriber.history.pageInfo.hasNextPage;
    more.addEventListener("click", async () => {
      more.disabled = true;
      try {
        const data = await this.request(MoreHistory, {
          id: subscriber.id,
          first: PAGE,
          after: endCursor ?? "",
        });
        const history = data.node && "history" in data.node ? data.node.history : null;
        if (!history) return;
        addEvents(history.edges.map(({ node }) => node));
        endCursor = history.pageInfo.endCursor;
        more.hidden = !history.pageInfo.hasNextPage;
      } catch (error) {
        this.status.textContent = `More events could not be loaded: ${(error as Error).message}`;
      } finally {
        more.disabled = false;
      }
    });

    const details = [
      subscriber.timezone && `time zone ${subscriber.timezone}`,
      subscriber.locale && `locale ${subscriber.locale}`,
    ].filter(Boolean);
    fill(
      this.result,
      h(
        "div",
        { class: "subscriber-head" },
        h("h3", { tabindex: -1, class: "phone" }, subscriber.phone),
        h(
          "p",
          { class: "muted" },
          "Subscriber since ",
          time(subscriber.createdAt),
          details.length ? ` · ${details.join(" · ")}` : "",
        ),
      ),
      ledgerCheck(verification),
      h("h4", {}, "Consents"),
      subscriber.consents.length
        ? consentsTable(subscriber.consents)
        : h("p", { class: "muted" }, "No consents."),
      h("h4", {}, "Timeline"),
      h(
        "p",
        { class: "muted" },
        "Every change of this subscriber's consent, oldest first, as the ledger holds it.",
      ),
      events.length ? timeline : h("p", { class: "muted" }, "No ledger events."),
      more,
      h("h4", {}, "Disclosure versions referenced"),
      seenDisclosures.size ? disclosures : h("p", { class: "muted" }, "None."),
    );
  }

  private timelineEvent(
    event: AdminTimelineEventFragment,
    verification: Verification,
  ): HTMLLIElement {
    const message = messageOf(event.evidence);
    const broken = verification.firstBrokenEventId === event.id;
    const lines: Child[] = [
      h(
        "p",
        { class: "feed-meta" },
        h("span", { class: "sequence" }, `Event #${event.sequence}`),
        time(event.occurredAt),
        h("span", { class: "campaign-name" }, event.campaign?.name ?? "No campaign"),
        broken && h("span", { class: "tag tag-broken" }, "Chain breaks here"),
      ),
      h(
        "p",
        { class: "feed-body" },
        transition(event.fromStatus, event.toStatus),
        h("span", { class: "muted" }, byMethod(event.method)),
      ),
    ];
    if (message) {
      lines.push(
        h(
          "p",
          { class: "timeline-message" },
          h("span", { class: "tag tag-message" }, "Message"),
          h("q", { class: "message-body" }, message.body),
          message.to ? h("span", { class: "muted" }, `sent to ${message.to}`) : null,
        ),
      );
    }
    if (event.disclosures) {
      lines.push(
        h(
          "p",
          { class: "muted" },
          `Under disclosures version ${event.disclosures.version} (consent language sha256 `,
          hash(event.disclosures.consentLanguageHash.slice(0, 12)),
          "…)",
        ),
      );
    }
    lines.push(
      h(
        "dl",
        { class: "hashes" },
        h("dt", {}, "Hash"),
        h("dd", {}, hash(event.hash)),
        h("dt", {}, "Previous"),
        h("dd", {}, event.prevHash ? hash(event.prevHash) : "none: the chain starts here"),
        h("dt", {}, "Recorded"),
        h("dd", {}, time(event.recordedAt)),
      ),
    );
    if (event.evidence) {
      lines.push(
        h(
          "details",
          {},
          h("summary", {}, "Evidence"),
          h("pre", { class: "evidence" }, JSON.stringify(event.evidence, null, 2)),
        ),
      );
    }
    return h(
      "li",
      { class: broken ? "timeline-event broken" : "timeline-event", "data-event-id": event.id },
      ...lines,
    );
  }
}

function ledgerCheck(verification: Verification): HTMLElement {
  const events = count(verification.eventsChecked, "event");
  return verification.ok
    ? h(
        "p",
        { class: "ledger-check ok" },
        h("strong", {}, "✓ Ledger verified."),
        ` The organization's hash chain was recomputed over ${events}; every hash matches.`,
      )
    : h(
        "p",
        { class: "ledger-check broken" },
        h("strong", {}, "✗ Ledger does not verify."),
        ` Recomputing ${events}, the chain first breaks at event `,
        hash(verification.firstBrokenEventId ?? "unknown"),
        ".",
      );
}

function consentsTable(consents: Found["consents"]): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Campaign"),
          h("th", { scope: "col" }, "Status"),
          h("th", { scope: "col" }, "Since"),
        ),
      ),
      h(
        "tbody",
        {},
        ...consents.map((consent) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, consent.campaign.name),
            h(
              "td",
              {},
              statusPill(consent.status),
              h("span", { class: "muted" }, ` ${byMethod(consent.method)}`),
              consent.expiresAt &&
                h("span", { class: "muted" }, " · expires ", time(consent.expiresAt)),
            ),
            h("td", {}, time(consent.updatedAt)),
          ),
        ),
      ),
    ),
  );
}

function disclosureItem(
  campaign: string | undefined,
  disclosures: NonNullable<AdminTimelineEventFragment["disclosures"]>,
): HTMLLIElement {
  return h(
    "li",
    {},
    h(
      "details",
      {},
      h(
        "summary",
        {},
        `${campaign ?? disclosures.programName} · version ${disclosures.version} · `,
        time(disclosures.createdAt),
      ),
      h("p", {}, disclosures.consentLanguage),
      h("p", { class: "muted" }, "Consent language sha256 ", hash(disclosures.consentLanguageHash)),
    ),
  );
}
