// The live streams behind the admin view: consent events and inbound messages over graphql-ws,
// each resumed after a lost connection with `after` = the cursor of the last event it delivered,
// so the server replays what was missed (no gap) and nothing is shown twice.
import type { Client } from "graphql-ws/client";
import { graphql } from "./generated/gql.ts";
import type {
  AdminFeedConsentEventFragment,
  AdminFeedKeywordEventFragment,
  TypedDocumentString,
} from "./generated/graphql.ts";

export type LiveConsentEvent = AdminFeedConsentEventFragment;
export type LiveKeywordEvent = AdminFeedKeywordEventFragment;

graphql(`
  fragment AdminFeedConsentEvent on ConsentEvent {
    id
    cursor
    sequence
    occurredAt
    fromStatus
    toStatus
    method
    campaign {
      id
      name
    }
    subscriber {
      id
      phone
    }
  }
`);

graphql(`
  fragment AdminFeedKeywordEvent on KeywordEvent {
    id
    cursor
    sequence
    receivedAt
    from
    to
    body
    keyword
    intent
    needsReview
    reviewedAt
    campaigns {
      id
      name
    }
  }
`);

/** The latest events of both kinds, oldest first: the feed's start and the streams' first `after`. */
export const RecentActivity = graphql(`
  query AdminRecentActivity($last: Int!) {
    consentEvents(last: $last) {
      edges {
        node {
          ...AdminFeedConsentEvent
        }
      }
    }
    keywordEvents(last: $last) {
      edges {
        node {
          ...AdminFeedKeywordEvent
        }
      }
    }
  }
`);

const ConsentChanged = graphql(`
  subscription AdminConsentChanged($after: String) {
    consentChanged(after: $after) {
      ...AdminFeedConsentEvent
    }
  }
`);

const KeywordEventReceived = graphql(`
  subscription AdminKeywordEventReceived($after: String) {
    keywordEventReceived(after: $after) {
      ...AdminFeedKeywordEvent
    }
  }
`);

/** Close codes after which resubscribing cannot help (a revoked key, a protocol mistake). */
function isFatal(error: unknown): boolean {
  if (Array.isArray(error)) return true; // GraphQL errors: the subscription itself was refused
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "number") return false;
  // 4408 (no ack in time) and 4499 (terminated) are transient; other 4xxx codes are refusals.
  return code >= 4000 && code !== 4408 && code !== 4499;
}

export function describeStop(error: unknown): string {
  if (Array.isArray(error)) {
    return String((error[0] as { message?: unknown } | undefined)?.message ?? "refused");
  }
  const { code, reason } = (error ?? {}) as { code?: number; reason?: string };
  if (code === 4403) return "the API key was refused";
  return reason || (code ? `closed with code ${code}` : "the connection failed");
}

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

interface StreamOptions<TEvent> {
  client: Client;
  /** the cursor of the newest event already shown; the stream starts right behind it */
  after: string | null;
  afterSequence: number;
  onEvent: (event: TEvent) => void;
  /** the stream gave up (a refusal); it does not retry after this */
  onStop: (error: unknown) => void;
}

export interface Stream {
  stop(): void;
}

function resumable<TEvent extends { cursor: string; sequence: number }, TData>(
  document: TypedDocumentString<TData, { after?: string | null }>,
  pick: (data: TData) => TEvent,
  options: StreamOptions<TEvent>,
): Stream {
  let after = options.after;
  let lastSequence = options.afterSequence;
  let stopped = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let unsubscribe: (() => void) | undefined;

  const retry = (error: unknown) => {
    if (stopped) return;
    if (isFatal(error)) {
      stopped = true;
      unsubscribe?.();
      options.onStop(error);
      return;
    }
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** failures++);
    retryTimer = setTimeout(subscribe, delay * (0.75 + Math.random() / 2));
  };

  function subscribe() {
    if (stopped) return;
    unsubscribe = options.client.subscribe<TData>(
      { query: document.toString(), variables: { after } },
      {
        next: (result) => {
          if (result.errors?.length) return retry(result.errors);
          if (!result.data) return;
          const event = pick(result.data);
          // A replay after a reconnect that graphql-ws made on its own (a normal close) starts
          // from an older cursor: skip what was shown already.
          if (event.sequence <= lastSequence) return;
          lastSequence = event.sequence;
          after = event.cursor;
          options.onEvent(event);
        },
        error: retry,
        // The server ends a stream only when it shuts down: resume like after a lost connection.
        complete: () => retry(null),
      },
    );
  }

  // A new connection is a fresh start for the back-off, whether or not events follow.
  const unlistenConnected = options.client.on("connected", () => {
    failures = 0;
  });
  subscribe();
  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      unlistenConnected();
      unsubscribe?.();
    },
  };
}

export const consentStream = (options: StreamOptions<LiveConsentEvent>) =>
  resumable(ConsentChanged, (data) => data.consentChanged, options);

export const keywordStream = (options: StreamOptions<LiveKeywordEvent>) =>
  resumable(KeywordEventReceived, (data) => data.keywordEventReceived, options);
