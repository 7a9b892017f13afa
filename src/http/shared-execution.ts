// Fan-out without per-subscriber work: an event delivered to many subscribers that asked for the
// same thing (the same parsed document, operation and variables) under the same visibility (the
// organization, role and campaign scope of their keys) is executed once, and each of them gets
// that one result. Each subscription keeps its own source stream (its own cursor, filter, buffer
// and slow-consumer close); only the mapping of an event to its result is shared.
// Over a WebSocket the shared result is serialized once too: a result without errors is written
// as a pre-built graphql-ws `next` frame (src/http/frames.ts) by the subscription itself, so
// graphql-ws and the Envelop result hooks see nothing per event; a result with errors goes the
// usual way (masked by Yoga, sent by graphql-ws), in order with the frames around it. A live
// subscription that is idle gets its frame written in the tailer's pass over all subscriptions
// (its DirectSink, src/events/streams.ts), once the shared result is computed.
import {
  createSourceEventStream,
  execute,
  Kind,
  type DocumentNode,
  type OperationDefinitionNode,
  type ExecutionArgs,
  type ExecutionResult,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../schema/context.ts";
import type { DirectSink, Prepared } from "../events/streams.ts";
import { frameTargetOf, frameWriter, type FrameWriter } from "./frames.ts";

/** Results kept this long after their first execution, for subscribers that read a little later. */
const TTL_MS = 5_000;
const MAX_ENTRIES = 20_000;

/** One execution's result, and its JSON as a graphql-ws payload once asked for. */
export class SharedResult {
  private bytes: Buffer | null | undefined;

  constructor(readonly result: ExecutionResult) {}

  /**
   * The payload's JSON as UTF-8 bytes, encoded once for every subscriber; null when the result has
   * errors (those are masked per transport).
   */
  payload(): Buffer | null {
    if (this.bytes === undefined) {
      const { data, errors, extensions } = this.result;
      this.bytes = errors?.length
        ? null
        : Buffer.from(JSON.stringify(extensions === undefined ? { data } : { data, extensions }));
    }
    return this.bytes;
  }
}

/** One execution, shared: what the tailer awaits once for all the subscribers it serves. */
class Entry implements Prepared {
  readonly ready: Promise<SharedResult>;
  /** the result once computed */
  value: SharedResult | null = null;

  constructor(
    work: () => Promise<ExecutionResult>,
    readonly expires: number,
  ) {
    this.ready = work().then((done) => (this.value = new SharedResult(done)));
  }
}

/** The row a share key's subscribers were last offered, and its entry. */
interface Offered {
  row: unknown;
  entry: Entry;
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 1;

function documentId(document: DocumentNode): number {
  let id = documentIds.get(document);
  if (id === undefined) {
    id = nextDocumentId++;
    documentIds.set(document, id);
  }
  return id;
}

/** What a subscription's results depend on besides the event: null when it cannot be shared. */
function shareKey(args: ExecutionArgs): string | null {
  const context = args.contextValue as Context | undefined;
  const actor = context?.actor;
  if (!actor) return null;
  let variables: string;
  try {
    variables = JSON.stringify(args.variableValues ?? {});
  } catch {
    return null;
  }
  const scope = actor.campaignIds ? [...actor.campaignIds].sort().join(",") : "*";
  return [
    documentId(args.document),
    args.operationName ?? "",
    variables,
    actor.organizationId,
    actor.role,
    scope,
  ].join("|");
}

/**
 * The subscriptions whose payloads are immutable rows (ledger events, inbound messages): the same
 * row always executes to the same result. Others (an import job's progress: the same job, changed)
 * are never shared.
 */
const IMMUTABLE_EVENT_FIELDS = new Set(["consentChanged", "keywordEventReceived"]);

function sharesImmutableEvents(args: ExecutionArgs): boolean {
  const operations = args.document.definitions.filter(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      (args.operationName == null || definition.name?.value === args.operationName),
  );
  if (operations.length !== 1) return false;
  return operations[0].selectionSet.selections.every(
    (selection) =>
      selection.kind === Kind.FIELD && IMMUTABLE_EVENT_FIELDS.has(selection.name.value),
  );
}

/** The identity of an event payload: a ledger row or inbound message, by id and sequence. */
function eventKey(payload: unknown): string | null {
  if (typeof payload !== "object" || payload === null) return null;
  const row = payload as { id?: unknown; sequence?: unknown };
  if (typeof row.id !== "string" || typeof row.sequence !== "number") return null;
  return `${row.id}:${row.sequence}`;
}

export class SharedResults {
  private readonly entries = new Map<string, Entry>();
  /**
   * Per share key, the row its subscribers were offered last: a tailer offers one row object to
   * all of them in turn, so each finds the shared result by the row's identity, without building
   * and hashing a key of its own.
   */
  private readonly offered = new Map<string, Offered>();

  /**
   * The result of `payload` for the subscribers of `shareKey`, computed by `work` once per event
   * (each time for a payload that is no event).
   */
  run(
    shareKey: string,
    payload: unknown,
    work: (payload: unknown) => Promise<ExecutionResult>,
  ): Promise<SharedResult> {
    const entry = this.entryOf(shareKey, payload, work);
    return entry ? entry.ready : work(payload).then((result) => new SharedResult(result));
  }

  /**
   * The result of `row`, an event of the tailer's pass, for the subscribers of `shareKey`
   * (computed by `work` once); null when the row is not an event that can be shared.
   */
  prepare(
    shareKey: string,
    row: unknown,
    work: (row: unknown) => Promise<ExecutionResult>,
  ): Prepared | null {
    const last = this.offered.get(shareKey);
    if (last !== undefined && last.row === row) return last.entry;
    const entry = this.entryOf(shareKey, row, work);
    if (entry) this.offered.set(shareKey, { row, entry });
    return entry;
  }

  /** The result `prepare` answered `prepared` for, once computed; else null. */
  static valueOf(prepared: Prepared): SharedResult | null {
    return prepared instanceof Entry ? prepared.value : null;
  }

  /** The entry of `payload`'s event for `shareKey`; null when the payload is no event. */
  private entryOf(
    shareKey: string,
    payload: unknown,
    work: (payload: unknown) => Promise<ExecutionResult>,
  ): Entry | null {
    const event = eventKey(payload);
    return event === null ? null : this.entry(`${shareKey}|${event}`, () => work(payload));
  }

  private entry(key: string, work: () => Promise<ExecutionResult>): Entry {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit;
    if (this.entries.size >= MAX_ENTRIES) this.sweep(now);
    const entry = new Entry(work, now + TTL_MS);
    this.entries.set(key, entry);
    // a failed execution is not kept: the next subscriber tries again
    entry.ready.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry;
  }

  private sweep(now: number) {
    for (const [key, entry] of this.entries) {
      if (entry.expires <= now) this.entries.delete(key);
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    for (const [shareKey, last] of this.offered) {
      if (last.entry.expires <= now || this.entries.size === 0) this.offered.delete(shareKey);
    }
  }
}

/** An async iterator of `source` mapped by `map`, whose return() reaches the source at once. */
function mapIterator<T, U>(
  source: AsyncIterable<T>,
  map: (value: T) => Promise<U>,
): AsyncIterableIterator<U> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const step = await iterator.next();
      if (step.done) return { done: true, value: undefined };
      return { done: false, value: await map(step.value) };
    },
    async return() {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      if (iterator.throw) await iterator.throw(error);
      throw error;
    },
  };
}

/**
 * `source` mapped to shared results, each written to the socket by `frames` when it can be (no
 * errors), else yielded to graphql-ws. The next event is pulled only once the socket took the last
 * frame, and nothing is written once the subscription is returned (completed or closed).
 */
function framedIterator<T>(
  source: AsyncIterable<T>,
  map: (value: T) => Promise<SharedResult>,
  frames: FrameWriter,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let returned = false;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      for (;;) {
        const step = await iterator.next();
        if (step.done || returned) return { done: true, value: undefined };
        const shared = await map(step.value);
        if (returned) return { done: true, value: undefined };
        const payload = shared.payload();
        if (payload === null) return { done: false, value: shared.result };
        await frames.next(payload);
      }
    },
    async return() {
      returned = true;
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      returned = true;
      if (iterator.throw) await iterator.throw(error);
      throw error;
    },
  };
}

export function useSharedEventExecution(shared = new SharedResults()): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const key = sharesImmutableEvents(args) ? shareKey(args) : null;
        const run = (payload: unknown) => Promise.resolve(execute({ ...args, rootValue: payload }));
        if (!key) return mapIterator(source as AsyncIterable<unknown>, run);
        const sharedRun = (payload: unknown) => shared.run(key, payload, run);
        const target = frameTargetOf(args.contextValue);
        if (target) {
          const frames = frameWriter(target);
          const stream = source as AsyncIterable<unknown> & {
            attachSink?: (sink: DirectSink<unknown>) => void;
          };
          // a live stream's rows are written in the tailer's pass once their result is shared
          stream.attachSink?.({
            prepare: (row) => shared.prepare(key, row, run),
            take: (_row, prepared) => {
              const payload = SharedResults.valueOf(prepared)?.payload();
              return payload != null && frames.write(payload);
            },
            gather: () => frames.gather(),
            release: () => frames.release(),
          });
          return framedIterator(stream, sharedRun, frames);
        }
        return mapIterator(source as AsyncIterable<unknown>, async (payload) => {
          return (await sharedRun(payload)).result;
        });
      }) as never);
    },
  };
}
