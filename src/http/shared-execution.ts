// Fan-out without per-subscriber work: an event delivered to many subscribers that asked for the
// same thing (the same parsed document, operation and variables) under the same visibility (the
// organization, role and campaign scope of their keys) is executed once, and each of them gets
// that one result. Each subscription keeps its own source stream (its own cursor, filter, buffer
// and slow-consumer close); only the mapping of an event to its result is shared.
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

/** Results kept this long after their first execution, for subscribers that read a little later. */
const TTL_MS = 5_000;
const MAX_ENTRIES = 20_000;

interface Entry {
  result: Promise<ExecutionResult>;
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

  run(key: string, work: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.result;
    if (this.entries.size >= MAX_ENTRIES) this.sweep(now);
    const result = work();
    this.entries.set(key, { result, expires: now + TTL_MS });
    // a failed execution is not kept: the next subscriber tries again
    result.catch(() => this.entries.delete(key));
    return result;
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

export function useSharedEventExecution(shared = new SharedResults()): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const key = sharesImmutableEvents(args) ? shareKey(args) : null;
        return mapIterator(source as AsyncIterable<unknown>, (payload) => {
          const run = () => Promise.resolve(execute({ ...args, rootValue: payload }));
          const event = eventKey(payload);
          return key && event ? shared.run(`${key}|${event}`, run) : run();
        });
      }) as never);
    },
  };
}
