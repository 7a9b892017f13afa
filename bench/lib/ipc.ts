// Request/answer over a child's IPC channel: the harness calls, the child's handler answers.
import type { Proc } from "./procs.ts";

interface Call {
  callId: number;
  type: string;
  payload: unknown;
}

interface Answer {
  callId: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

let nextCallId = 1;

/** Calls `type` in the child and waits for its answer. */
export async function call<T>(
  proc: Proc,
  type: string,
  payload: unknown = null,
  timeoutMs = 300_000,
): Promise<T> {
  const callId = nextCallId++;
  const answer = proc.waitFor<Answer>(
    (message) =>
      message && typeof message === "object" && message.callId === callId ? message : undefined,
    timeoutMs,
  );
  proc.send({ callId, type, payload } satisfies Call);
  const { ok, result, error } = await answer;
  if (!ok) throw new Error(`${proc.name} ${type}: ${error}`);
  return result as T;
}

/** Waits for the child's `{ ready: … }` message. */
export function ready<T = unknown>(proc: Proc, timeoutMs = 120_000): Promise<T> {
  return proc.waitFor<T>(
    (message) =>
      message && typeof message === "object" && "ready" in message ? message.ready : undefined,
    timeoutMs,
  );
}

type Handler = (payload: any) => unknown;

/** In a child: answers calls with `handlers`; says it is ready with `info`. */
export function serve(handlers: Record<string, Handler>, info: unknown = true) {
  if (!process.send) throw new Error("this script runs under the bench harness (no IPC channel)");
  process.on("message", async (message: Call) => {
    const handler = handlers[message.type];
    try {
      if (!handler) throw new Error(`unknown call ${message.type}`);
      const result = await handler(message.payload);
      process.send!({ callId: message.callId, ok: true, result } satisfies Answer);
    } catch (error) {
      process.send!({
        callId: message.callId,
        ok: false,
        error: (error as Error)?.stack ?? String(error),
      } satisfies Answer);
    }
  });
  // the harness going away ends the child too
  process.on("disconnect", () => process.exit(0));
  process.send({ ready: info });
}
