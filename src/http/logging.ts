// Structured JSON logs (pino). Logs carry request ids, routes, statuses and durations; never
// request bodies, query strings or variables. Error texts are scrubbed of anything shaped like a
// phone number or an API key before they are written.
import pino, { type Logger } from "pino";

const PHONE = /\(?\+?\d[\d\s().-]{6,}\d/g;
const API_KEY = /og_[A-Za-z0-9_-]{6,}/g;

export function scrub(text: string): string {
  return text.replace(API_KEY, "og_[redacted]").replace(PHONE, "[number]");
}

let stdout: ReturnType<typeof pino.destination> | undefined;

/**
 * Standard output, written asynchronously: a line per request no longer costs a write system
 * call each under load (the lines of a busy moment go out together); what is buffered at exit is
 * written then. One per process, however many apps it runs.
 */
function asyncStdout() {
  if (!stdout) {
    const destination = pino.destination({ dest: 1, sync: false });
    process.once("exit", () => {
      try {
        destination.flushSync();
      } catch {
        // nothing left to write, or standard output is gone
      }
    });
    stdout = destination;
  }
  return stdout;
}

export function createLogger(level: string): Logger {
  return pino(
    { level, base: { service: "optgraph" }, timestamp: pino.stdTimeFunctions.isoTime },
    asyncStdout(),
  );
}

/** An unexpected error as a loggable object, scrubbed. */
export function errorFields(error: unknown) {
  if (error instanceof Error) {
    return {
      type: error.name,
      message: scrub(error.message),
      stack: error.stack ? scrub(error.stack) : undefined,
    };
  }
  return { message: scrub(String(error)) };
}
