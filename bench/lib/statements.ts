// Counting the SQL statements a request makes. On PostgreSQL: a proxy between optgraph and the
// server that reads the wire protocol and records every statement executed (simple Query
// messages, and Execute messages of the extended protocol, named by the statement they run), so
// nothing optgraph sends escapes it. On PGlite (no wire): Prisma's driver-adapter debug log.
import { readFileSync, statSync } from "node:fs";
import { createConnection, createServer, type Server as NetServer, type Socket } from "node:net";
import type { RunContext } from "./context.ts";
import { startOptgraph, type Server } from "./optgraph.ts";

export interface Executed {
  sql: string;
  /** the connection it ran on */
  connection: number;
}

export interface StatementProxy {
  port: number;
  /** every statement executed through the proxy, in order */
  executed: Executed[];
  /** connections that ran LISTEN: the wake-up listener's, whose heartbeats are not requests' */
  listeners: Set<number>;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

function cstring(buffer: Buffer, offset: number): [string, number] {
  const end = buffer.indexOf(0, offset);
  return [buffer.toString("utf8", offset, end), end + 1];
}

/** Parses a client's frontend messages as they stream by. */
function frontendParser(onStatement: (sql: string) => void) {
  let pending: Buffer = Buffer.alloc(0);
  let started = false;
  const statements = new Map<string, string>();
  const portals = new Map<string, string>();
  return (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (!started) {
        if (pending.length < 8) return;
        const length = pending.readInt32BE(0);
        if (pending.length < length) return;
        const code = pending.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) started = true;
        pending = pending.subarray(length);
        continue;
      }
      if (pending.length < 5) return;
      const type = String.fromCharCode(pending[0]);
      const total = 1 + pending.readInt32BE(1);
      if (pending.length < total) return;
      const body = pending.subarray(5, total);
      if (type === "Q") onStatement(cstring(body, 0)[0]);
      else if (type === "P") {
        const [name, next] = cstring(body, 0);
        statements.set(name, cstring(body, next)[0]);
      } else if (type === "B") {
        const [portal, next] = cstring(body, 0);
        portals.set(portal, statements.get(cstring(body, next)[0]) ?? "?");
      } else if (type === "E") onStatement(portals.get(cstring(body, 0)[0]) ?? "?");
      pending = pending.subarray(total);
    }
  };
}

export async function startStatementProxy(databaseUrl: string): Promise<StatementProxy> {
  const target = new URL(databaseUrl);
  const executed: Executed[] = [];
  const listeners = new Set<number>();
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: NetServer = createServer((client) => {
    const connection = ++connections;
    const upstream = createConnection({
      host: target.hostname,
      port: Number(target.port || 5432),
    });
    sockets.add(client).add(upstream);
    const parse = frontendParser((sql) => {
      if (/^\s*listen\s/i.test(sql)) listeners.add(connection);
      executed.push({ sql, connection });
    });
    client.on("data", (chunk: Buffer) => {
      parse(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    executed,
    listeners,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The same database URL, through the proxy. */
export function viaProxy(databaseUrl: string, port: number): string {
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return url.toString();
}

/** Statements Prisma's driver adapter logged (DEBUG=prisma:driver-adapter:*) in a log file. */
export class AdapterLog {
  private offset: number;
  constructor(private readonly file: string) {
    this.offset = statSync(file).size;
  }

  /** Statements logged since the last call. */
  take(): string[] {
    const all = readFileSync(this.file);
    const text = all.subarray(this.offset).toString("utf8");
    this.offset = all.length;
    return (
      text
        .split(/(?=prisma:driver-adapter:)/)
        // statements, and transactions' begin and end (which the adapter logs by their own tags)
        .filter((entry) =>
          /\[js::(query_raw|execute_raw|startTransaction|commit|rollback)\]/.test(entry),
        )
        // the statement is printed as an inspected JSON string: undo the quoting
        .map((entry) =>
          entry
            .replace(/'\s*\+\s*'/g, "")
            .replace(/\\+n/g, " ")
            .replace(/\\+"/g, '"')
            .replace(/\s+/g, " "),
        )
    );
  }
}

export interface StatementCounter {
  /** how statements are counted */
  method: string;
  /** statements since the last call, without the wake-up listener's heartbeats */
  take(): Promise<string[]>;
  /** heartbeats of the wake-up listener seen so far (not a request's) */
  background(): number;
  close(): Promise<void>;
}

/** An optgraph instance whose statements are counted (a proxy on PostgreSQL, the log on PGlite). */
export async function countedOptgraph(
  ctx: RunContext,
  name: string,
): Promise<{ server: Server; counter: StatementCounter }> {
  const settle = () => new Promise((r) => setTimeout(r, 100));
  if (ctx.database.url) {
    const proxy = await startStatementProxy(ctx.database.url);
    const server = await startOptgraph(ctx, name, {
      databaseUrl: viaProxy(ctx.database.url, proxy.port),
    }).catch(async (error) => {
      await proxy.close();
      throw error;
    });
    let mark = 0;
    let background = 0;
    return {
      server,
      counter: {
        method: "wire-protocol proxy between optgraph and PostgreSQL (every Query/Execute message)",
        take: async () => {
          // let socket writes land first
          await settle();
          const taken = proxy.executed.slice(mark);
          mark = proxy.executed.length;
          background += taken.filter((e) => proxy.listeners.has(e.connection)).length;
          return taken.filter((e) => !proxy.listeners.has(e.connection)).map((e) => e.sql);
        },
        background: () => background,
        close: () => proxy.close(),
      },
    };
  }
  const server = await startOptgraph(ctx, name, { env: { DEBUG: "prisma:driver-adapter:*" } });
  const log = new AdapterLog(server.proc.logFile);
  return {
    server,
    counter: {
      method: "Prisma driver-adapter debug log (DEBUG=prisma:driver-adapter:*)",
      take: async () => {
        await settle();
        return log.take();
      },
      background: () => 0,
      close: async () => undefined,
    },
  };
}

export interface StatementCheck {
  /** per request: statements other than API-key authentication */
  perRequest: number[];
  /** API-key statements seen (the key cache holds an actor for a second) */
  authentication: number;
  /** the wake-up listener's heartbeats and the send cache's own reads: not a request's */
  background: number;
  /** the first statement of each distinct kind, shortened */
  kinds: string[];
  method: string;
}

/**
 * Runs `work` against an optgraph whose statements are counted: a fresh instance (stopped after),
 * or a smoke run's shared one.
 */
export async function withCountedOptgraph<T>(
  ctx: RunContext,
  name: string,
  work: (server: Server, counter: StatementCounter) => Promise<T>,
): Promise<T> {
  const { server, counter } = ctx.shared ?? (await countedOptgraph(ctx, name));
  try {
    return await work(server, counter);
  } finally {
    if (!ctx.shared) {
      await server.stop();
      await counter.close();
    }
  }
}

export const isAuthentication = (sql: string) => sql.includes('"ApiKey"');
/** the send cache's own reads (its head checks and catch-ups), not a request's */
export const isSendCacheRead = (sql: string) => sql.includes("/* send-cache */");

/** Runs the requests one at a time (after the warm-up ones) and counts each one's statements. */
export function statementsPerRequest(
  ctx: RunContext,
  name: string,
  requests: ((server: Server) => Promise<unknown>)[],
  warmup: ((server: Server) => Promise<unknown>)[] = [],
): Promise<StatementCheck> {
  return withCountedOptgraph(ctx, `optgraph-${name}-statements`, async (server, counter) => {
    for (const request of warmup) await request(server);
    await counter.take();
    const background = counter.background();
    let cacheReads = 0;
    const perRequest: number[] = [];
    let authentication = 0;
    const kinds = new Map<string, string>();
    for (const request of requests) {
      await request(server);
      const taken = await counter.take();
      const statements = taken.filter((sql) => !isSendCacheRead(sql));
      cacheReads += taken.length - statements.length;
      const auth = statements.filter(isAuthentication).length;
      authentication += auth;
      perRequest.push(statements.length - auth);
      for (const sql of statements) {
        const text = /"sql": "(.*?)", "args"/.exec(sql)?.[1] ?? sql;
        const short = text.replace(/\s+/g, " ").trim().slice(0, 120);
        const kind = short.slice(0, 60);
        if (!kinds.has(kind)) kinds.set(kind, short);
      }
    }
    return {
      perRequest,
      authentication,
      background: counter.background() - background + cacheReads,
      kinds: [...kinds.values()],
      method: counter.method,
    };
  });
}

/** The counts of a check, and how they were counted, for the log. */
export function describeCheck(check: StatementCheck, counts = check.perRequest): string {
  return (
    `${counts.join(", ")} (${check.method}; API-key statements: ${check.authentication}, ` +
    `wake-up listener heartbeats and send-cache reads: ${check.background})`
  );
}
