// HTTP load from this process (the harness) with autocannon: `connections` keep-alive connections
// each sending its next request as soon as the previous one is answered, for a fixed time. Every
// response is checked (a GraphQL error is a failure, not a fast success); latencies are those of
// successful responses only.
import autocannon from "autocannon";
import { summarize, type Budget, type Summary } from "./stats.ts";

export interface HttpRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LoadSpec {
  origin: string;
  connections: number;
  budget: Budget;
  /** the next request to send (called once per request) */
  next: () => HttpRequest;
  /** whether a response is the expected success */
  check: (status: number, body: string) => boolean;
}

/** Sends one request (outside a load run); the response's status and body. */
export async function send(origin: string, request: HttpRequest) {
  const response = await fetch(`${origin}${request.path}`, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, body: await response.text() };
}

/** Sends one request that must get the expected answer. */
export async function sendChecked(
  origin: string,
  request: HttpRequest,
  check: (status: number, body: string) => boolean,
) {
  const { status, body } = await send(origin, request);
  if (!check(status, body)) throw new Error(`unexpected answer ${status}: ${body.slice(0, 300)}`);
}

export const graphqlOk = (status: number, body: string) =>
  status === 200 && body.startsWith('{"data"') && !body.includes('"errors"');

export async function httpLoad(spec: LoadSpec): Promise<Summary> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  // autocannon reports latency per response after onResponse saw its body
  let lastOk = false;
  const started = performance.now();
  let transportErrors = 0;
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.origin,
        connections: spec.connections,
        ...(spec.budget.amount === undefined
          ? { duration: spec.budget.durationMs / 1000 }
          : { amount: spec.budget.amount }),
        timeout: 30,
        // how often autocannon looks at the clock (it stops on this tick)
        sampleInt: 100,
        requests: [
          {
            method: "POST",
            setupRequest: (request) => ({ ...request, method: "POST", ...spec.next() }),
            onResponse: (status, body) => {
              lastOk = spec.check(status, body);
              if (!lastOk) {
                failures++;
                firstFailure ??= `${status} ${body.slice(0, 500)}`;
              }
            },
          },
        ],
      } as autocannon.Options,
      (error) => (error ? reject(error) : resolve()),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      if (lastOk) latencies.push(responseTime);
      lastOk = false;
    });
    instance.on("reqError", (error) => {
      transportErrors++;
      firstFailure ??= String(error);
    });
  });
  const elapsed = performance.now() - started;
  return summarize(latencies, elapsed, failures + transportErrors, firstFailure);
}
