// The admin view's entry point: sign-in with an API key, then one session that loads the views,
// opens the live streams and routes their events to the feed, the counters, the review queue and
// the open subscriber record; signing out closes all of it and forgets the key.
import type { Client } from "graphql-ws/client";
import {
  connectLive,
  GraphQLRequestError,
  request,
  requester,
  type ConnectionState,
} from "./api.ts";
import { CampaignCounters } from "./campaigns.ts";
import { byId } from "./dom.ts";
import { Feed, type FeedEntry } from "./feed.ts";
import { graphql } from "./generated/gql.ts";
import type { AdminRecentActivityQuery, AdminViewerQuery } from "./generated/graphql.ts";
import { consentStream, describeStop, keywordStream, RecentActivity, type Stream } from "./live.ts";
import { ReviewQueue } from "./review.ts";
import { forgetApiKey, saveApiKey, savedApiKey } from "./session.ts";
import { SubscriberLookup } from "./subscriber.ts";

const RECENT_EVENTS = 25;

const Viewer = graphql(`
  query AdminViewer {
    viewer {
      role
      organization {
        id
        name
      }
    }
  }
`);

const page = {
  signIn: byId("sign-in", HTMLElement),
  signInForm: byId("sign-in-form", HTMLFormElement),
  apiKey: byId("api-key", HTMLInputElement),
  signInError: byId("sign-in-error", HTMLElement),
  signInButton: byId("sign-in-button", HTMLButtonElement),
  dashboard: byId("dashboard", HTMLElement),
  dashboardTitle: byId("dashboard-title", HTMLElement),
  account: byId("account", HTMLElement),
  organizationName: byId("organization-name", HTMLElement),
  role: byId("role", HTMLElement),
  liveStatus: byId("live-status", HTMLElement),
  signOut: byId("sign-out", HTMLButtonElement),
};

const LIVE_LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Live updates stopped",
};

function showLiveState(state: ConnectionState, detail = ""): void {
  page.liveStatus.dataset.state = state;
  page.liveStatus.textContent = detail ? `${LIVE_LABELS[state]}: ${detail}` : LIVE_LABELS[state];
}

interface Session {
  stop(): void;
}

let session: Session | null = null;

/** Everything a signed-in key sees: the views load and the streams open in the background. */
function startSession(apiKey: string, viewer: AdminViewerQuery["viewer"]): Session {
  const send = requester(apiKey);
  const lookup = new SubscriberLookup(
    send,
    byId("lookup-form", HTMLFormElement),
    byId("lookup-phone", HTMLInputElement),
    byId("lookup-status", HTMLElement),
    byId("lookup-result", HTMLElement),
  );
  const feed = new Feed(
    byId("feed", HTMLOListElement),
    byId("feed-empty", HTMLElement),
    (phone) => void lookup.lookUp(phone, { focus: true }),
  );
  const counters = new CampaignCounters(
    send,
    byId("campaign-rows", HTMLTableSectionElement),
    byId("campaigns-note", HTMLElement),
  );
  const review = new ReviewQueue(
    send,
    byId("review-list", HTMLUListElement),
    byId("review-empty", HTMLElement),
    byId("review-status", HTMLElement),
    byId("review-title", HTMLElement),
  );

  page.organizationName.textContent = viewer.organization.name;
  page.role.textContent = viewer.role;
  page.account.hidden = false;
  page.signIn.hidden = true;
  page.dashboard.hidden = false;
  showLiveState("connecting");

  let ended = false;
  let client: Client | null = null;
  let streams: Stream[] = [];

  const openStreams = (recent: AdminRecentActivityQuery) => {
    const consents = recent.consentEvents.edges.map(({ node }) => node);
    const messages = recent.keywordEvents.edges.map(({ node }) => node);
    feed.start([
      ...consents.map((event): FeedEntry => ({ kind: "consent", event })),
      ...messages.map((event): FeedEntry => ({ kind: "message", event })),
    ]);
    // Each stream starts right behind the newest event the feed shows: no gap, no repeat.
    const lastConsent = consents.at(-1);
    const lastMessage = messages.at(-1);
    const onStop = (error: unknown) => showLiveState("stopped", describeStop(error));
    client = connectLive(apiKey, (state) => showLiveState(state));
    streams = [
      consentStream({
        client,
        after: lastConsent?.cursor ?? null,
        afterSequence: lastConsent?.sequence ?? 0,
        onEvent: (event) => {
          feed.add({ kind: "consent", event });
          if (event.campaign) counters.changed(event.campaign.id);
          lookup.changed(event.subscriber.id);
        },
        onStop,
      }),
      keywordStream({
        client,
        after: lastMessage?.cursor ?? null,
        afterSequence: lastMessage?.sequence ?? 0,
        onEvent: (event) => {
          feed.add({ kind: "message", event });
          review.received(event);
        },
        onStop,
      }),
    ];
  };

  void Promise.all([
    send(RecentActivity, { last: RECENT_EVENTS }).catch((error: Error) => {
      showLiveState("stopped", error.message);
      return null;
    }),
    counters.load(),
    review.load(viewer.role !== "VIEWER"),
  ]).then(([recent]) => {
    if (recent && !ended) openStreams(recent);
  });

  return {
    stop() {
      ended = true;
      for (const stream of streams) stream.stop();
      void client?.dispose();
      feed.clear();
      counters.stop();
      review.stop();
      lookup.stop();
    },
  };
}

function showSignIn(message = ""): void {
  page.account.hidden = true;
  page.dashboard.hidden = true;
  page.signIn.hidden = false;
  page.signInError.textContent = message;
  page.apiKey.value = "";
  page.apiKey.focus();
}

async function signIn(apiKey: string, restoring: boolean): Promise<void> {
  let viewer: AdminViewerQuery["viewer"];
  try {
    viewer = (await request(apiKey, Viewer)).viewer;
  } catch (error) {
    const refused = error instanceof GraphQLRequestError && error.code === "UNAUTHENTICATED";
    if (restoring && refused) forgetApiKey();
    showSignIn(refused ? "That API key is unknown or revoked." : (error as Error).message);
    return;
  }
  saveApiKey(apiKey);
  session = startSession(apiKey, viewer);
  if (!restoring) page.dashboardTitle.focus();
}

page.signInForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const apiKey = page.apiKey.value.trim();
  if (!apiKey) {
    page.signInError.textContent = "Enter an API key.";
    page.apiKey.focus();
    return;
  }
  page.signInError.textContent = "";
  page.signInButton.disabled = true;
  void signIn(apiKey, false).finally(() => {
    page.signInButton.disabled = false;
  });
});

page.signOut.addEventListener("click", () => {
  session?.stop();
  session = null;
  forgetApiKey();
  showSignIn();
});

const remembered = savedApiKey();
if (remembered) void signIn(remembered, true);
else page.apiKey.focus();
