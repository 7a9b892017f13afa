// Shared by the stream tests: the subscription and mutation documents, real clients for both
// transports (graphql-ws over `ws`, and GraphQL over SSE with fetch) that collect what a
// subscription delivers, cursor decoding, and fast writers that put many events on a ledger.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { graphql } from "../generated/gql.ts";
import { disclosures, uniqueLongCode } from "../support/fixtures.ts";
import type { App } from "../../src/app.ts";
import {
  ActivateCampaign,
  CreateCampaign,
  CreateOrganization,
  CreateSender,
  OptIn,
  OptOut,
} from "../support/documents.ts";

export type Transport = "ws" | "sse";
export const TRANSPORTS: Transport[] = ["ws", "sse"];

// ---------------------------------------------------------------------------------------------
// Documents

export const ConsentChanged = graphql(`
  subscription StreamsConsentChanged($after: String, $campaignId: ID, $subscriberId: ID) {
    consentChanged(after: $after, campaignId: $campaignId, subscriberId: $subscriberId) {
      id
      cursor
      sequence
      fromStatus
      toStatus
      method
      campaign {
        id
      }
      subscriber {
        id
        phone
      }
    }
  }
`);

/** The lean form for volume: no relations, so delivery is not slowed by per-event reads. */
export const ConsentChangedLean = graphql(`
  subscription StreamsConsentChangedLean($after: String, $campaignId: ID) {
    consentChanged(after: $after, campaignId: $campaignId) {
      id
      cursor
      sequence
    }
  }
`);

/**
 * id and sequence only: `cursor` is computed from the sequence but declared with a Prisma
 * `select`, so for rows a subscription hands over Pothos reads the event again, one query per
 * event per subscriber. A client that must keep up under load leaves it out.
 */
export const ConsentChangedBare = graphql(`
  subscription StreamsConsentChangedBare($after: String) {
    consentChanged(after: $after) {
      id
      sequence
    }
  }
`);

export const KeywordEventReceived = graphql(`
  subscription StreamsKeywordEventReceived($after: String, $campaignId: ID) {
    keywordEventReceived(after: $after, campaignId: $campaignId) {
      id
      cursor
      sequence
      body
      intent
      from
      campaigns {
        id
      }
    }
  }
`);

// ---------------------------------------------------------------------------------------------
// Cursors

export const cursorText = (cursor: string) => Buffer.from(cursor, "base64url").toString("utf8");
/** What a client that knows the format would send to resume behind `sequence`. */
export const consentCursor = (sequence: number) =>
  Buffer.from(`ce:${sequence}`, "utf8").toString("base64url");

// ---------------------------------------------------------------------------------------------
// Plain HTTP against any base URL (the shared app, or a spawned instance)

export interface GqlResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown } }[];
}

export async function post<T, V>(
  base: string,
  key: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Promise<GqlResult<T>> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      authorization: `Bearer ${key}`,
      // a fresh connection each time: a pooled keep-alive socket the server is closing just then
      // fails a POST with ECONNRESET, and these writes must not be retried blindly
      connection: "close",
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return (await response.json()) as GqlResult<T>;
}

export async function must<T, V>(
  base: string,
  key: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Promise<T> {
  const result = await post(base, key, document, variables);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL request failed: ${JSON.stringify(result.errors)}`);
  }
  return result.data;
}

export const baseOf = (app: App) => `http://127.0.0.1:${app.server.port}`;

/**
 * A new organization with an active campaign on any server (the fixtures in test/support talk to
 * the shared app; a test's own app may have its own database).
 */
export async function setupOrganization(base: string, platformKey: string) {
  const created = await must(base, platformKey, CreateOrganization, {
    name: `streams ${process.pid}-${Date.now()}-${Math.random()}`,
  });
  const key = created.createOrganization.secret;
  const sender = await must(base, key, CreateSender, {
    input: { address: uniqueLongCode(), kind: "LONG_CODE" },
  });
  const campaign = await must(base, key, CreateCampaign, {
    input: {
      name: `Campaign ${Date.now()}`,
      purpose: "MARKETING",
      senderId: sender.createSender.sender.id,
      disclosures: disclosures(),
    },
  });
  const campaignId = campaign.createCampaign.campaign.id;
  await must(base, key, ActivateCampaign, { id: campaignId });
  return {
    key,
    campaignId,
    rowId: decodeGlobalID(created.createOrganization.organization.id).id,
  };
}

// ---------------------------------------------------------------------------------------------
// Writers

/** A distinct valid US number for index i (the 555-01xx block, then neighbours). */
export const phoneAt = (i: number) => `+1415${String(5550100 + i).padStart(7, "0")}`;

export interface Written {
  sequence: number;
  cursor: string;
  id: string;
}

/**
 * Writes consent events for one campaign over HTTP, `parallel` requests at a time, each to a
 * distinct number: a number that is out opts in, one that is in opts out, so every call changes
 * a consent and appends exactly one event. Remembers the numbers' states between calls.
 */
export function ledgerWriter(
  base: string,
  key: string,
  campaignId: string,
  parallel = 20,
  evidence?: Record<string, unknown>,
) {
  const optedIn: boolean[] = Array.from({ length: parallel }, () => false);
  const one = async (i: number): Promise<Written> => {
    const phone = phoneAt(i);
    if (!optedIn[i]) {
      const d = await must(base, key, OptIn, {
        input: { phone, campaignId, method: "API", evidence },
      });
      if (!d.optIn.changed || !d.optIn.event) throw new Error(`optIn ${phone} did not change`);
      optedIn[i] = true;
      return d.optIn.event;
    }
    const d = await must(base, key, OptOut, {
      input: { phone, campaignId, method: "API", evidence },
    });
    if (!d.optOut.changed || d.optOut.events.length !== 1)
      throw new Error(`optOut ${phone} did not change`);
    optedIn[i] = false;
    return d.optOut.events[0];
  };
  return {
    /** `count` events; returns what the mutations reported, in sequence order */
    async write(count: number): Promise<Written[]> {
      const written: Written[] = [];
      while (written.length < count) {
        const n = Math.min(parallel, count - written.length);
        written.push(...(await Promise.all(Array.from({ length: n }, (_, i) => one(i)))));
      }
      return written.sort((a, b) => a.sequence - b.sequence);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Subscription feeds

export interface Delivered {
  id: string;
  cursor: string;
  sequence: number;
  [field: string]: unknown;
}

export interface Feed<T extends Delivered = Delivered> {
  readonly items: T[];
  /** performance.now() at each item's arrival */
  readonly times: number[];
  /** GraphQL errors delivered as results, or the transport's error */
  readonly errors: unknown[];
  /** the stream ended (completed, errored or closed) */
  readonly ended: boolean;
  /**
   * resolves once `count` items have arrived; rejects on timeout, on any error result, or if the
   * stream ends first
   */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** resolves with the first error (or rejects on timeout) */
  waitForError(timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

interface FeedState<T> {
  items: T[];
  times: number[];
  errors: unknown[];
  ended: boolean;
  listeners: Set<() => void>;
}

function feedFrom<T extends Delivered>(
  state: FeedState<T>,
  close: () => Promise<void>,
  describe: string,
): Feed<T> {
  const until = (done: () => boolean, what: () => string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (state.errors.length > 0) {
          // an error result is never expected while waiting for items
          cleanup();
          reject(new Error(`${describe}: error before ${what()}: ${JSON.stringify(state.errors)}`));
        } else if (done()) {
          cleanup();
          resolve();
        } else if (state.ended) {
          cleanup();
          reject(
            new Error(
              `${describe}: ended before ${what()}; errors ${JSON.stringify(state.errors)}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${describe}: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        state.listeners.delete(check);
      };
      state.listeners.add(check);
      check();
    });
  return {
    get items() {
      return state.items;
    },
    get times() {
      return state.times;
    },
    get errors() {
      return state.errors;
    },
    get ended() {
      return state.ended;
    },
    async waitFor(count, timeoutMs = 10_000) {
      await until(
        () => state.items.length >= count,
        () => `${count} items (have ${state.items.length})`,
        timeoutMs,
      );
      return state.items;
    },
    async waitForError(timeoutMs = 10_000) {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (state.errors.length > 0) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${describe}: no error within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          state.listeners.delete(check);
        };
        state.listeners.add(check);
        check();
      });
      return state.errors[0];
    },
    close,
  };
}

function newState<T>(): FeedState<T> & { notify(): void } {
  const state = {
    items: [] as T[],
    times: [] as number[],
    errors: [] as unknown[],
    ended: false,
    listeners: new Set<() => void>(),
    notify: () => [...state.listeners].forEach((listener) => listener()),
  };
  return state;
}

export interface SubscribeOptions<V> {
  transport: Transport;
  /** http://host:port of the server */
  base: string;
  key: string;
  document: TypedDocumentNode<any, V>;
  variables: V;
  /** graphql-ws: called with the close event when the socket closes */
  onClosed?: (event: { code: number; reason: string }) => void;
}

/** The root field's value of each result goes to `items`; results with errors go to `errors`. */
export function subscribe<T extends Delivered = Delivered, V = Record<string, unknown>>(
  options: SubscribeOptions<V>,
): Feed<T> {
  return options.transport === "ws" ? wsFeed<T, V>(options) : sseFeed<T, V>(options);
}

function take<T>(
  state: FeedState<T> & { notify(): void },
  result: { data?: Record<string, unknown> | null; errors?: readonly unknown[] },
) {
  if (result.errors?.length) state.errors.push(...result.errors);
  else if (result.data) {
    state.items.push(Object.values(result.data)[0] as T);
    state.times.push(performance.now());
  }
  state.notify();
}

function wsFeed<T extends Delivered, V>(options: SubscribeOptions<V>): Feed<T> {
  const state = newState<T>();
  const client: Client = createClient({
    url: `${options.base.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${options.key}` },
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        options.onClosed?.({ code, reason: String(reason) });
      },
    },
  });
  client.subscribe(
    { query: print(options.document), variables: options.variables as Record<string, unknown> },
    {
      next: (result) => take(state, result as never),
      error: (error) => {
        state.errors.push(error);
        state.ended = true;
        state.notify();
      },
      complete: () => {
        state.ended = true;
        state.notify();
      },
    },
  );
  return feedFrom(
    state,
    async () => {
      await client.dispose();
      state.ended = true;
      state.notify();
    },
    "ws subscription",
  );
}

function sseFeed<T extends Delivered, V>(options: SubscribeOptions<V>): Feed<T> {
  const state = newState<T>();
  const controller = new AbortController();
  const reading = (async () => {
    const response = await fetch(`${options.base}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${options.key}`,
      },
      body: JSON.stringify({ query: print(options.document), variables: options.variables }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (event === "next" && data.length) take(state, JSON.parse(data.join("\n")));
        if (event === "complete") {
          state.ended = true;
          state.notify();
        }
      }
    }
  })()
    .catch((error: unknown) => {
      if (!controller.signal.aborted) state.errors.push(error);
    })
    .finally(() => {
      state.ended = true;
      state.notify();
    });
  return feedFrom(
    state,
    async () => {
      controller.abort();
      await reading;
    },
    "sse subscription",
  );
}

// ---------------------------------------------------------------------------------------------
// Waiting

export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 10_000,
  everyMs = 10,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms: ${typeof what === "string" ? what : what()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

type StreamName = "consentEvents" | "keywordEvents";

/**
 * Subscribes on the in-process app and waits until the server holds the subscription (its
 * starting point is then fixed), so events written next are the subscription's to deliver.
 */
export async function opened<T extends Delivered = Delivered, V = Record<string, unknown>>(
  app: App,
  stream: StreamName,
  options: SubscribeOptions<V>,
): Promise<Feed<T>> {
  const before = app.runtime.streams[stream].size;
  const feed = subscribe<T, V>(options);
  try {
    await until(
      () => app.runtime.streams[stream].size > before || feed.ended || feed.errors.length > 0,
      `the ${stream} subscription to open`,
    );
  } catch (error) {
    await feed.close();
    throw error;
  }
  if (feed.errors.length > 0 || feed.ended) {
    await feed.close();
    throw new Error(`subscription failed: ${JSON.stringify(feed.errors)}`);
  }
  // closing waits until the server let go too, so the next `opened` counts from a settled size
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const open = app.runtime.streams[stream].size;
      await feed.close();
      await until(
        () => app.runtime.streams[stream].size < open,
        `the ${stream} subscription to end on the server`,
      );
    })());
  return Object.assign(Object.create(feed) as Feed<T>, { close });
}

/** Sequences are strictly increasing: in order, no duplicate. */
export function strictlyIncreasing(sequences: number[]): boolean {
  return sequences.every((s, i) => i === 0 || s > sequences[i - 1]);
}
