// Structured JSON logs (pino). Logs carry request ids, routes, statuses and durations; never
// request bodies, query strings or variables. Error texts are scrubbed of anything shaped like a
// phone number or an API key before they are written.
import pino, { type Logger } from "pino";

const PHONE = /\(?\+?\d[\d\s().-]{6,}\d/g;
const API_KEY = /og_[A-Za-z0-9_-]{6,}/g;

export function scrub(text: string): string {
  return text.replace(API_KEY, "og_[redacted]").replace(PHONE, "[number]");
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "optgraph" }, timestamp: pino.stdTimeFunctions.isoTime });
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
