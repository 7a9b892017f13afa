// One writer per organization at a time in this process, before a connection is taken. Writers of
// one organization serialize on its ledger head row anyway (SELECT … FOR NO KEY UPDATE); without this
// gate each waiting writer held a pooled connection while it waited, so a burst of writes to one
// organization emptied the pool and every other request (other organizations, canSend) timed out
// waiting for a connection. The row lock still orders writers across instances.

/** Raised when a writer waited longer than its limit for its organization's turn. */
export class LedgerBusyError extends Error {
  constructor(waitedMs: number) {
    super(`the organization's ledger stayed busy for ${waitedMs} ms`);
    this.name = "LedgerBusyError";
  }
}

const tails = new Map<string, Promise<void>>();

/** Runs `work` after every earlier writer of `key` in this process, waiting at most `maxWaitMs`. */
export async function inTurn<T>(
  key: string,
  maxWaitMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => done);
  tails.set(key, tail);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), maxWaitMs);
  });
  const outcome = await Promise.race([previous.then(() => "turn" as const), timedOut]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    // give the turn up when it comes, so later writers are not stuck behind this one
    release();
    void tail.then(() => forget(key, tail));
    throw new LedgerBusyError(maxWaitMs);
  }
  try {
    return await work();
  } finally {
    release();
    forget(key, tail);
  }
}

function forget(key: string, tail: Promise<void>) {
  if (tails.get(key) === tail) tails.delete(key);
}

/** Writers waiting or running, per key (for tests and metrics). */
export const queuedKeys = () => tails.size;
