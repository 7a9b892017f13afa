// The live connections of this instance by API key: WebSocket connections and SSE streams. A key
// holds at most `maxConnectionsPerKey` of them, and a revoked key loses all of them within a
// second, whichever instance revoked it: the keys behind live connections are read again from the
// database once a second (one query for all of them, only while any is open), which also keeps
// their lastUsedAt current.
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Prisma } from "../db/client.ts";
import { DomainError } from "../domain/errors.ts";
import { KEY_CACHE_MS, LAST_USED_RESOLUTION_MS } from "../services/api-keys.ts";
import type { Context } from "../schema/context.ts";
import { graphQLErrorOf } from "./errors.ts";

/** The close code and reason a WebSocket gets when its key is revoked. */
export const REVOKED_CLOSE = { code: 4403, reason: "Forbidden: the API key was revoked" };
/** The close code and reason of a WebSocket over its key's connection cap. */
export const TOO_MANY_CONNECTIONS_CLOSE = {
  code: 4429,
  reason: "Too many connections for this API key",
};

export class LiveConnections {
  private readonly byKey = new Map<string, Set<() => void>>();
  /** how each SSE stream ends when the server shuts down */
  private readonly goingAway = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private checking = false;

  constructor(
    private readonly prisma: Prisma,
    readonly maxPerKey: number,
    private readonly onError: (error: unknown) => void,
    intervalMs = KEY_CACHE_MS,
  ) {
    this.timer = setInterval(() => void this.recheck(), intervalMs);
    this.timer.unref();
  }

  /**
   * Holds a place for a connection of the key; `end` is called if the key is revoked, `goAway`
   * (if any) when the server shuts down. Returns the release to call when the connection ends,
   * or null when the key is at its cap.
   */
  open(apiKeyId: string, end: () => void, goAway?: () => void): (() => void) | null {
    let ends = this.byKey.get(apiKeyId);
    if ((ends?.size ?? 0) >= this.maxPerKey) return null;
    if (!ends) this.byKey.set(apiKeyId, (ends = new Set()));
    const entry = () => end();
    ends.add(entry);
    const away = goAway && (() => goAway());
    if (away) this.goingAway.add(away);
    return () => {
      if (away) this.goingAway.delete(away);
      ends.delete(entry);
      if (ends.size === 0 && this.byKey.get(apiKeyId) === ends) this.byKey.delete(apiKeyId);
    };
  }

  /** Ends the connections of every key that is revoked (or gone) now. */
  async recheck(): Promise<void> {
    if (this.checking || this.byKey.size === 0) return;
    this.checking = true;
    try {
      const ids = [...this.byKey.keys()];
      const valid = await this.prisma.apiKey.findMany({
        where: { id: { in: ids }, revokedAt: null },
        select: { id: true, lastUsedAt: true },
      });
      const still = new Set(valid.map((key) => key.id));
      await this.recordUse(valid);
      for (const id of ids) {
        if (still.has(id)) continue;
        const ends = this.byKey.get(id);
        this.byKey.delete(id);
        for (const end of ends ?? []) end();
      }
    } catch (error) {
      // the next round tries again
      this.onError(error);
    } finally {
      this.checking = false;
    }
  }

  /**
   * A key in use only by a long-lived connection is in use too: its lastUsedAt moves on at the
   * resolution requests give it (a minute), so a rotation does not take it for idle.
   */
  private async recordUse(keys: { id: string; lastUsedAt: Date | null }[]) {
    const now = Date.now();
    const stale = keys
      .filter((key) => !key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS)
      .map((key) => key.id);
    if (stale.length === 0) return;
    await this.prisma.apiKey.updateMany({
      where: { id: { in: stale } },
      data: { lastUsedAt: new Date(now) },
    });
  }

  /** Stops rechecking keys and ends the SSE streams (the server is shutting down). */
  close() {
    clearInterval(this.timer);
    for (const goAway of [...this.goingAway]) goAway();
  }
}

/**
 * `source` with a way to end it early: `end(last)` makes the next item `last` and finishes the
 * iteration (the source is returned at once); `onDone` runs once, however the iteration stops.
 */
function endable<T>(source: AsyncIterable<T>, onDone: () => void) {
  const iterator = source[Symbol.asyncIterator]();
  let last!: T;
  let end!: (item: T) => void;
  const ended = new Promise<"ended">(
    (resolve) =>
      (end = (item) => {
        last = item;
        resolve("ended");
      }),
  );
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    onDone();
  };
  const iterable: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (finished) return { done: true, value: undefined };
      const step = await Promise.race([iterator.next(), ended]);
      if (step === "ended") {
        finish();
        void iterator.return?.();
        return { done: false, value: last };
      }
      if (step.done) finish();
      return step;
    },
    async return() {
      finish();
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      finish();
      if (iterator.throw) await iterator.throw(error);
      throw error;
    },
  };
  return { iterable, end };
}

/**
 * SSE subscriptions count as connections of their key and end with a final UNAUTHENTICATED error
 * when the key is revoked. (A WebSocket is registered once, when it connects: server.ts.)
 */
export function useLiveConnections(live: LiveConnections): Plugin<Context> {
  return {
    onSubscribe({ args }) {
      if ((args.contextValue as { socket?: unknown }).socket) return;
      const { actor } = args.contextValue;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) return;
          const revoked = new GraphQLError("The API key was revoked.", {
            extensions: { code: "UNAUTHENTICATED" },
          });
          const goingAway = new GraphQLError("The server is shutting down: resume with after.", {
            extensions: { code: "INTERNAL_SERVER_ERROR", retryable: true },
          });
          let release: (() => void) | null = null;
          const { iterable, end } = endable(result, () => release?.());
          release = live.open(
            actor.apiKeyId,
            () => end({ errors: [revoked] }),
            () => end({ errors: [goingAway] }),
          );
          if (!release) {
            void iterable.return?.();
            setResult({
              errors: [
                graphQLErrorOf(
                  new DomainError(
                    "RATE_LIMITED",
                    `An API key may hold ${live.maxPerKey} connections and SSE streams at once.`,
                  ),
                ),
              ],
            });
            return;
          }
          setResult(iterable as never);
        },
      };
    },
  };
}
