// The edge every route goes through: who is calling (the API key of an HTTP header or of a
// WebSocket's connectionParams, failed attempts throttled per client address), what an error code
// answers in HTTP, the PARTNER persisted-operations rule, and reading a body within its limit.
// A new route copies the pattern of src/http/exports.ts: `edge.authenticate`, then
// `edge.rateLimits.consume`, then `answerOf(error)` for whatever it raises.
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { Config } from "../config.ts";
import { secretFromAuthorization, type Actor } from "../domain/api-key.ts";
import { DomainError, type ErrorCode } from "../domain/errors.ts";
import { authenticate, cachedActor } from "../services/api-keys.ts";
import type { Prisma } from "../db/client.ts";

const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
};

/** The HTTP status of an error code (anything unknown is a server error). */
export function httpStatusOf(code: string): number {
  return HTTP_STATUS[code as ErrorCode] ?? 500;
}

/** Status and headers of a rule's error: 401 names the scheme, 429 says when to come back. */
export function answerOf(error: DomainError): { status: number; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (error.code === "UNAUTHENTICATED") headers["www-authenticate"] = "Bearer";
  const retryAfterMs = error.details?.retryAfterMs;
  if (error.code === "RATE_LIMITED" && typeof retryAfterMs === "number") {
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
  return { status: httpStatusOf(error.code), headers };
}

export const rateLimited = (message: string, retryAfterMs: number) =>
  new DomainError("RATE_LIMITED", message, { details: { retryAfterMs } });

export interface RateLimits {
  /** resolves when the actor may run `operations` more; throws a RATE_LIMITED DomainError when not */
  consume(actor: Actor, operations: number): Promise<void>;
}

const documentHash = (query: string) => createHash("sha256").update(query).digest("hex");

const registeredHashes = new WeakMap<Map<string, string>, Set<string>>();

/** Whether a document is one of the manifest's, sent as it is. */
function registeredQuery(manifest: Map<string, string>, query: string): boolean {
  let hashes = registeredHashes.get(manifest);
  if (!hashes) {
    hashes = new Set([...manifest.values()].map(documentHash));
    registeredHashes.set(manifest, hashes);
  }
  return hashes.has(documentHash(query));
}

/** The credential of a request: `Authorization` over HTTP, `authorization` in connectionParams. */
export function authorizationOf(
  request: { headers: { get(name: string): string | null } } | undefined,
  connectionParams: Record<string, unknown> | undefined,
): string | null {
  const fromParams = connectionParams?.authorization ?? connectionParams?.Authorization;
  if (typeof fromParams === "string") return fromParams;
  return request?.headers.get("authorization") ?? null;
}

/** The address a request came from (the proxy's, behind one). */
export const clientAddress = (req: IncomingMessage | undefined) =>
  req?.socket.remoteAddress ?? "unknown";

export interface Edge {
  /**
   * The actor of a credential, or a DomainError: UNAUTHENTICATED, or RATE_LIMITED when the
   * address failed too often lately (then no database lookup is made; keys known from the last
   * second still pass).
   */
  authenticate(authorization: string | null | undefined, address: string): Promise<Actor>;
  /** Whether the actor may run this document, not only registered ones (PARTNER keys with a manifest). */
  mayRunAdHoc(actor: Actor, query?: string): boolean;
  readonly rateLimits: RateLimits;
  /** registered operations, when PARTNER keys are limited to them */
  readonly persistedOperations: Map<string, string> | null;
}

export interface EdgeOptions {
  config: Config;
  prisma: Prisma;
  redis: Redis | null;
  rateLimits: RateLimits;
  persistedOperations: Map<string, string> | null;
}

function failureLimiter(config: Config, redis: Redis | null): RateLimiterAbstract | null {
  if (config.authFailuresPerMinute <= 0) return null;
  const options = {
    points: config.authFailuresPerMinute,
    duration: 60,
    keyPrefix: "optgraph_auth_failures",
  };
  return redis
    ? new RateLimiterRedis({
        ...options,
        storeClient: redis,
        insuranceLimiter: new RateLimiterMemory(options),
      })
    : new RateLimiterMemory(options);
}

export function createEdge(options: EdgeOptions): Edge {
  const { config, prisma, persistedOperations } = options;
  const failures = failureLimiter(config, options.redis);
  return {
    rateLimits: options.rateLimits,
    persistedOperations,
    async authenticate(authorization, address) {
      const secret = secretFromAuthorization(authorization);
      if (!secret) {
        throw new DomainError(
          "UNAUTHENTICATED",
          "An API key is required: send `Authorization: Bearer <key>`.",
        );
      }
      const known = cachedActor(secret);
      if (known) return known;
      // Only unknown and revoked keys count: a database that fails or is slow must not lock
      // out the clients it answers once it is back.
      // a throttle that cannot be read lets the request through rather than failing it
      const failed = await failures?.get(address).catch(() => null);
      if (failed && failed.consumedPoints >= config.authFailuresPerMinute) {
        throw rateLimited(
          `Too many failed authentications from this address; retry in ${Math.ceil(failed.msBeforeNext / 1000)} s.`,
          failed.msBeforeNext,
        );
      }
      const actor = await authenticate(prisma, secret);
      if (actor) return actor;
      await failures?.penalty(address, 1).catch(() => undefined);
      throw new DomainError("UNAUTHENTICATED", "The API key is unknown or revoked.");
    },
    mayRunAdHoc(actor, query) {
      if (!persistedOperations || actor.role !== "PARTNER") return true;
      return query !== undefined && registeredQuery(persistedOperations, query);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Cross-origin reads (CORS)

/**
 * Which browser origins may read answers cross-origin: those in OPTGRAPH_ALLOWED_ORIGINS ("*" for
 * any), as for WebSockets; with none listed, none in production and any elsewhere (GraphiQL and
 * tools on other ports). Never with credentials: keys travel in a header, not in cookies.
 */
export function corsPolicy(config: Config) {
  const allowed = config.allowedOrigins;
  return (request: Request) => {
    const origin = request.headers.get("origin");
    if (!origin) return false;
    const listed = allowed.includes("*") || allowed.includes(origin);
    if (!listed && (allowed.length > 0 || config.env === "production")) return false;
    return { origin: [origin], credentials: false };
  };
}

// ---------------------------------------------------------------------------------------------
// Request ids

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** seven or more digits, separated or not: a phone number, or part of one */
const DIGIT_RUN = /\d(?:[._-]?\d){6,}/;

/**
 * The request id to log and echo: the client's `x-request-id` when it is a plain id, else a new
 * one. An id shaped like an API key or holding a phone number is never taken: it would be logged.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  const id = Array.isArray(header) ? header[0] : header;
  if (id && REQUEST_ID.test(id) && !/^og_/i.test(id) && !DIGIT_RUN.test(id)) return id;
  return randomUUID();
}

// ---------------------------------------------------------------------------------------------
// Bodies

/**
 * The body of a request, or null once it is larger than `limit` bytes: the declared length is not
 * trusted (a chunked body declares none), the bytes read are counted, and reading stops there.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  if (Number(req.headers["content-length"] ?? 0) > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, size)));
    req.once("error", reject);
  });
}

/**
 * Answers 413 and closes the connection: the rest of the body is never read. The socket is ended
 * after the answer (a reset at once could overtake it) and destroyed if the client lingers.
 */
export function refuseTooLarge(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  contentType: string,
) {
  req.pause();
  res.shouldKeepAlive = false;
  res.writeHead(413, { "content-type": contentType, connection: "close" });
  res.end(body, () => {
    setTimeout(() => req.socket.destroy(), 2000).unref();
  });
}
