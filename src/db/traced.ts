// The plain SQL paths of a database (hot-path reads and bulk-write transactions, on PostgreSQL and
// PGlite alike) as OpenTelemetry spans: one span per statement, named by its kind (SELECT,
// INSERT…), and one per transaction around its statements. Spans carry the statement kind, never
// its text or its parameters (phone numbers). Prisma's own queries are traced by
// @prisma/instrumentation. Only types are imported here: src/http/tracing.ts hands in the tracer,
// so a process without tracing loads no OpenTelemetry code.
import type { Span, SpanKind, SpanStatusCode, Tracer } from "@opentelemetry/api";
import type { Database, SqlQuery } from "./client.ts";

const CLIENT = 2 as SpanKind; // SpanKind.CLIENT
const ERROR = 2 as SpanStatusCode; // SpanStatusCode.ERROR

/**
 * The kind of a statement: its first keyword, or for a `with … as (…)` the keyword of the statement
 * its common table expressions lead to (the first keyword outside every parenthesis and quote).
 */
export function statementKind(sql: string): string {
  const first = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toUpperCase() ?? "UNKNOWN";
  if (first !== "WITH") return first;
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      if (end < 0) break;
      i = end;
    } else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0) {
      const main = /^(select|insert|update|delete|merge)\b/i.exec(sql.slice(i, i + 7));
      if (main && /\W/.test(sql[i - 1] ?? " ")) return main[1].toUpperCase();
    }
  }
  return first;
}

function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: CLIENT, attributes }, async (span: Span) => {
    try {
      return await work();
    } catch (error) {
      // the error's name only: a message may quote a value
      span.setStatus({ code: ERROR, message: (error as Error)?.name ?? "Error" });
      throw error;
    } finally {
      span.end();
    }
  });
}

export function tracedDatabase(db: Database, tracer: Tracer): Database {
  const base = { "db.system.name": "postgresql", "optgraph.db.engine": db.kind };
  const statement = <T>(sql: string, run: () => Promise<T>) => {
    const kind = statementKind(sql);
    return inSpan(tracer, kind, { ...base, "db.operation.name": kind }, run);
  };
  return {
    ...db,
    prepared: (text, values, name) => statement(text, () => db.prepared(text, values, name)),
    transaction: (work, options) =>
      inSpan(tracer, "transaction", base, () =>
        db.transaction((sql) => {
          const traced: SqlQuery = (text, values) => statement(text, () => sql(text, values));
          return work(traced);
        }, options),
      ),
  };
}
