// Twilio's webhook signature: base64(HMAC-SHA1(auth token, full URL ‖ each POST parameter's name
// and value, sorted by name)), compared in constant time. Twilio signs the URL as it called it,
// which may or may not carry the default port, so both forms are accepted.
import { createHmac, timingSafeEqual } from "node:crypto";

export function twilioSignature(
  authToken: string,
  url: string,
  params: Record<string, string>,
): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => acc + name + params[name], url);
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}

/** The URL with and without its scheme's default port (https :443, http :80), else as it is. */
function urlVariants(url: string): string[] {
  const match = /^(https?):\/\/([^/?#@]*@)?(\[[^\]]*\]|[^/?#:]+)(?::(\d+))?(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, userInfo = "", host, port, rest] = match;
  const defaultPort = scheme.toLowerCase() === "https" ? "443" : "80";
  if (port && port !== defaultPort) return [url];
  const base = `${scheme}://${userInfo}${host}`;
  return [`${base}${rest}`, `${base}:${defaultPort}${rest}`];
}

export function validTwilioSignature(
  authToken: string,
  signature: string | null | undefined,
  url: string,
  params: Record<string, string>,
): boolean {
  if (!signature) return false;
  const given = Buffer.from(signature, "utf8");
  return urlVariants(url).some((candidate) => {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params), "utf8");
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}
