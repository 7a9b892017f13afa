// What every resolver receives: who is acting, and the runtime it acts through.
import type { Actor } from "../domain/api-key.ts";
import type { Runtime } from "../services/runtime.ts";

export interface Context {
  readonly actor: Actor;
  readonly runtime: Runtime;
  readonly requestId: string;
  /** closes the client's transport when one of its subscriptions overflows (WebSocket) */
  readonly onSlowConsumer: () => void;
}
