// Twilio's public signature test vector, and what must not validate.
import { describe, expect, it } from "vitest";
import { twilioSignature, validTwilioSignature } from "../../src/domain/twilio-signature.ts";

const token = "12345";
const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
const params = {
  CallSid: "CA1234567890ABCDE",
  Caller: "+12349013030",
  Digits: "1234",
  From: "+12349013030",
  To: "+18005551212",
};
const vector = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

describe("Twilio signature", () => {
  it("matches Twilio's public test vector", () => {
    expect(twilioSignature(token, url, params)).toBe(vector);
    expect(validTwilioSignature(token, vector, url, params)).toBe(true);
  });

  it("accepts the URL with and without the default port", () => {
    const withPort = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    expect(validTwilioSignature(token, vector, withPort, params)).toBe(true);
    const signedWithPort = twilioSignature(token, withPort, params);
    expect(validTwilioSignature(token, signedWithPort, url, params)).toBe(true);
  });

  it.each([
    ["a tampered parameter", token, vector, url, { ...params, Digits: "1235" }],
    ["an added parameter", token, vector, url, { ...params, Body: "STOP" }],
    ["another URL", token, vector, "https://mycompany.com/other.php?foo=1&bar=2", params],
    ["another port", token, vector, "https://mycompany.com:8443/myapp.php?foo=1&bar=2", params],
    ["another token", "54321", vector, url, params],
    ["a missing signature", token, undefined, url, params],
    ["an empty signature", token, "", url, params],
    ["a truncated signature", token, vector.slice(0, -2), url, params],
  ])("refuses %s", (_what, authToken, signature, signedUrl, signedParams) => {
    expect(validTwilioSignature(authToken, signature, signedUrl, signedParams)).toBe(false);
  });
});
