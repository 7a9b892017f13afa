// Per-campaign counters: how many subscribers are opted in, pending and opted out. Every consent
// event re-reads the stats of its campaign (a burst is read once), so the counters stay exact
// however events arrive, replays after a reconnect included.
import type { Requester } from "./api.ts";
import { fill, h } from "./dom.ts";
import { graphql } from "./generated/gql.ts";
import type { AdminCampaignRowFragment } from "./generated/graphql.ts";

const CAMPAIGNS_SHOWN = 50;
const REFRESH_DELAY_MS = 100;

graphql(`
  fragment AdminCampaignRow on Campaign {
    id
    name
    status
    stats {
      optedIn
      pending
      optedOut
    }
  }
`);

const Campaigns = graphql(`
  query AdminCampaigns($first: Int!) {
    campaigns(first: $first) {
      edges {
        node {
          ...AdminCampaignRow
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`);

const CampaignStats = graphql(`
  query AdminCampaignStats($id: ID!) {
    campaign(id: $id) {
      ...AdminCampaignRow
    }
  }
`);

const COUNTERS = ["optedIn", "pending", "optedOut"] as const;
const STATUS_LABELS = { DRAFT: "Draft", ACTIVE: "Active", PAUSED: "Paused", ARCHIVED: "Archived" };

export class CampaignCounters {
  private readonly stale = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** false once signed out: answers still on their way are dropped */
  private active = true;

  constructor(
    private readonly request: Requester,
    private readonly body: HTMLTableSectionElement,
    private readonly note: HTMLElement,
  ) {}

  async load(): Promise<void> {
    try {
      const data = await this.request(Campaigns, { first: CAMPAIGNS_SHOWN });
      if (!this.active) return;
      fill(this.body, ...data.campaigns.edges.map(({ node }) => this.row(node)));
      if (data.campaigns.edges.length === 0) {
        fill(this.body, h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No campaigns yet.")));
      }
      this.note.textContent = data.campaigns.pageInfo.hasNextPage
        ? `Showing the first ${CAMPAIGNS_SHOWN} campaigns.`
        : "";
    } catch (error) {
      if (!this.active) return;
      this.note.textContent = `Campaigns could not be loaded: ${(error as Error).message}`;
    }
  }

  /** A consent event for this campaign committed: its counters changed. */
  changed(campaignId: string): void {
    this.stale.add(campaignId);
    this.timer ??= setTimeout(() => void this.refresh(), REFRESH_DELAY_MS);
  }

  stop(): void {
    this.active = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stale.clear();
    this.body.replaceChildren();
    this.note.textContent = "";
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    const ids = [...this.stale];
    this.stale.clear();
    for (const id of ids) {
      const existing = this.body.querySelector<HTMLTableRowElement>(
        `tr[data-campaign-id="${CSS.escape(id)}"]`,
      );
      if (!existing) return this.load();
      try {
        const { campaign } = await this.request(CampaignStats, { id });
        if (campaign && this.active) this.update(existing, campaign);
      } catch (error) {
        this.note.textContent = `Counters could not be updated: ${(error as Error).message}`;
      }
    }
  }

  private row(campaign: AdminCampaignRowFragment): HTMLTableRowElement {
    return h(
      "tr",
      { "data-campaign-id": campaign.id },
      h(
        "th",
        { scope: "row" },
        h("span", { class: "campaign-name" }, campaign.name),
        h("span", { class: "campaign-status" }, STATUS_LABELS[campaign.status]),
      ),
      ...COUNTERS.map((counter) =>
        h("td", { class: "count", "data-counter": counter }, campaign.stats[counter]),
      ),
    );
  }

  private update(row: HTMLTableRowElement, campaign: AdminCampaignRowFragment): void {
    for (const counter of COUNTERS) {
      const cell = row.querySelector<HTMLElement>(`[data-counter="${counter}"]`);
      const value = String(campaign.stats[counter]);
      if (!cell || cell.textContent === value) continue;
      cell.textContent = value;
      // restart the highlight: a changed counter flashes once
      cell.classList.remove("changed");
      void cell.offsetWidth;
      cell.classList.add("changed");
    }
  }
}
