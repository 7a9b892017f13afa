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
import type { DirectSink } from "../events/streams.ts";
import { frameTargetOf, frameWriter, type FrameWriter } from "./frames.ts";

/** Results kept this long after their first execution, for subscribers that read a little later. */
const TTL_MS = 5_000;
const MAX_ENTRIES = 20_000;

/** One execution's result, and its JSON as a graphql-ws payload once asked for. */
export class SharedResult {
  private text: string | null | undefined;

  constructor(readonly result: ExecutionResult) {}

  /** The payload's JSON text; null when the result has errors (those are masked per transport). */
  json(): string | null {
    if (this.text === undefined) {
      const { data, errors, extensions } = this.result;
      this.text = errors?.length
        ? null
        : JSON.stringify(extensions === undefined ? { data } : { data, extensions });
    }
    return this.text;
  }
}

interface Entry {
  result: Promise<SharedResult>;
  /** the result once computed */
  value: SharedResult | null;
  expires: number;
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

  run(key: string, work: () => Promise<ExecutionResult>): Promise<SharedResult> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.result;
    if (this.entries.size >= MAX_ENTRIES) this.sweep(now);
    const entry: Entry = { result: null as never, value: null, expires: now + TTL_MS };
    entry.result = work().then((done) => (entry.value = new SharedResult(done)));
    const result = entry.result;
    this.entries.set(key, entry);
    // a failed execution is not kept: the next subscriber tries again
    result.catch(() => this.entries.delete(key));
    return result;
  }

  /** The result kept for `key` once computed, else null (then `run`). */
  peek(key: string): SharedResult | null {
    return this.entries.get(key)?.value ?? null;
  }

  private sweep(now: number) {
    for (const [key, entry] of this.entries) {
      if (entry.expires <= now) this.entries.delete(key);
    }
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
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
        const json = shared.json();
        if (json === null) return { done: false, value: shared.result };
        await frames.next(json);
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
        const sharedRun = (payload: unknown) => {
          const event = eventKey(payload);
          return event
            ? shared.run(`${key}|${event}`, () => run(payload))
            : run(payload).then((result) => new SharedResult(result));
        };
        const target = frameTargetOf(args.contextValue);
        if (target) {
          const frames = frameWriter(target);
          const stream = source as AsyncIterable<unknown> & {
            attachSink?: (sink: DirectSink<unknown>) => void;
          };
          // a live stream's rows are written in the tailer's pass once their result is shared
          stream.attachSink?.({
            prepare: (row) => {
              const event = eventKey(row);
              return event ? shared.run(`${key}|${event}`, () => run(row)) : null;
            },
            take: (row) => {
              const event = eventKey(row);
              const json = event ? shared.peek(`${key}|${event}`)?.json() : null;
              return typeof json === "string" && frames.write(json);
            },
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
