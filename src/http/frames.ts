// graphql-ws `next` messages written straight to a WebSocket from a payload serialized once. When
// many subscriptions share one result (src/http/shared-execution.ts), graphql-ws would build and
// stringify a message per subscriber; here the shared payload's JSON is spliced into a prefix built
// once per subscription (only the id differs), which is exactly what graphql-ws sends:
// {"id":…,"type":"next","payload":{"data":…}}.
import { MessageType } from "graphql-ws";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/** The transport of a WebSocket operation, as its context carries it (src/http/websocket.ts). */
export interface FrameTarget {
  socket: WebSocket;
  /** the connection under the WebSocket, whose writes can be held and sent together */
  stream: Pick<Duplex, "cork" | "uncork">;
  subscriptionId: string;
}

/** The frame target of an operation's context, when it runs over a WebSocket. */
export function frameTargetOf(context: unknown): FrameTarget | null {
  const { socket, stream, subscriptionId } = (context ?? {}) as Partial<FrameTarget>;
  if (
    typeof subscriptionId !== "string" ||
    !socket ||
    typeof socket.send !== "function" ||
    !stream ||
    typeof stream.cork !== "function"
  ) {
    return null;
  }
  return { socket, stream, subscriptionId };
}

/** The `next` message of subscription `id` whose payload is the JSON text `payload`. */
export function nextFrame(id: string, payload: string): string {
  return `${framePrefix(id)}${payload}}`;
}

const framePrefix = (id: string) =>
  `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`;

export interface FrameWriter {
  /**
   * Sends the `next` message carrying `payload` (JSON as UTF-8 bytes); settles once the socket
   * took it. Like graphql-ws, a subscription pulls its next event only then, so a client that stops
   * reading stops its subscription's pulls and its bounded buffer overflows.
   */
  next(payload: Buffer): Promise<void>;
  /**
   * Sends the `next` message at once, without waiting for the socket: only while the socket holds
   * little unsent (else false, and the caller goes through `next`, which waits).
   */
  write(payload: Buffer): boolean;
  /**
   * Holds what `write` sends until `release` (Node's cork on the connection: the frames then go
   * out in one system call). Each gather needs its release.
   */
  gather(): void;
  release(): void;
}

/** Unsent bytes past which a frame waits for the socket rather than being written at once. */
const WRITE_AT_ONCE_LIMIT = 16 * 1024;

/** a text frame, as graphql-ws sends (ws would send a Buffer as a binary one) */
const TEXT = { binary: false } as const;
const CLOSING_BRACE = 0x7d;

export function frameWriter({ socket, stream, subscriptionId }: FrameTarget): FrameWriter {
  // the frame is this subscription's prefix, the payload's bytes (encoded once for every
  // subscriber) and a closing brace: one copy per subscriber, no string to encode
  const prefix = Buffer.from(framePrefix(subscriptionId));
  const frame = (payload: Buffer) => {
    const bytes = Buffer.allocUnsafe(prefix.length + payload.length + 1);
    bytes.set(prefix, 0);
    bytes.set(payload, prefix.length);
    bytes[bytes.length - 1] = CLOSING_BRACE;
    return bytes;
  };
  return {
    next(payload) {
      // graphql-ws sends nothing on a socket that is no longer open
      if (socket.readyState !== socket.OPEN) return Promise.resolve();
      return new Promise<void>((resolve) => {
        // a failed write means the socket is closing: its close ends the subscription
        socket.send(frame(payload), TEXT, () => resolve());
      });
    },
    write(payload) {
      if (socket.readyState !== socket.OPEN || socket.bufferedAmount > WRITE_AT_ONCE_LIMIT) {
        return false;
      }
      socket.send(frame(payload), TEXT);
      return true;
    },
    gather: () => stream.cork(),
    release: () => stream.uncork(),
  };
}
