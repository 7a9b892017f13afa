// GET /metrics after real requests: Node's default metrics under prom-client's own names (no
// doubled prefix), the consent counters (changes by method and status, inbound messages by intent,
// send decisions by reason, Twilio signature failures), and the optional scrape token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { testApp, testEnv } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { graphql } from "../generated/index.ts";
import { newOrganization, ok } from "../support/graphql.ts";
import { CanSend, CanSendMany, optIn } from "../consent/ops.ts";
import { ReceiveInboundMessage } from "../support/documents.ts";

const NOON_SF = "2025-01-15T20:00:00.000Z";

async function scrape(): Promise<string> {
  const app = await testApp();
  const response = await fetch(`http://127.0.0.1:${app.server.port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one sample (0 when the series does not exist yet). */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

// the shared server starts within the hook's time, not the first test's
beforeAll(async () => {
  await testApp();
});

describe("default metrics", () => {
  it("uses prom-client's own names, with no prefix and no doubled one", async () => {
    const text = await scrape();
    expect(sample(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "nodejs_heap_size_total_bytes")).toBeGreaterThan(0);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) {
      expect(name).not.toMatch(/^optgraph_(process|nodejs)_/);
      // a repeated first word (optgraph_optgraph_…, process_process_…)
      expect(name).not.toMatch(/^([a-z]+)_\1_/);
    }
  });
});

describe("consent metrics", () => {
  it("counts committed changes by method and status, inbound messages by intent, and send decisions by reason", async () => {
    const { adminKey: key } = await newOrganization();
    const campaign = await createCampaign(key, { purpose: "INFORMATIONAL", keywords: ["JOIN"] });
    const sender = await ok(
      key,
      graphql(`
        query MetricsSender($id: ID!) {
          campaign(id: $id) {
            sender {
              address
            }
          }
        }
      `),
      { id: campaign.id },
    );
    const to = sender.campaign!.sender.address;
    const before = await scrape();

    await optIn(key, { phone: "+14155550181", campaignId: campaign.id, method: "WEB_FORM" });
    await optIn(key, { phone: "+14155550182", campaignId: campaign.id, method: "WEB_FORM" });
    // the same key again changes nothing and counts nothing
    await optIn(key, { phone: "+14155550182", campaignId: campaign.id, method: "WEB_FORM" });
    const stop = await ok(key, ReceiveInboundMessage, {
      input: { from: "+14155550181", to, body: "STOP", providerMessageId: `SM-m-${Date.now()}` },
    });
    expect(stop.receiveInboundMessage.keywordEvent.intent).toBe("OPT_OUT");
    await ok(key, ReceiveInboundMessage, {
      input: { from: "+14155550183", to, body: "HELP", providerMessageId: `SM-h-${Date.now()}` },
    });
    const one = await ok(key, CanSend, {
      phone: "+14155550181",
      campaignId: campaign.id,
      at: NOON_SF,
    });
    expect(one.canSend.reason).toBe("OPTED_OUT");
    const many = await ok(key, CanSendMany, {
      phones: ["+14155550182", "+14155550184", "+14155550185"],
      campaignId: campaign.id,
      at: NOON_SF,
    });
    expect(many.canSendMany.map((d) => d.reason)).toEqual(["ALLOWED", "NO_CONSENT", "NO_CONSENT"]);

    const after = await scrape();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('optgraph_consent_changes_total{method="WEB_FORM",status="OPTED_IN"}')).toBe(2);
    expect(delta('optgraph_consent_changes_total{method="KEYWORD",status="OPTED_OUT"}')).toBe(1);
    expect(delta('optgraph_inbound_messages_total{intent="OPT_OUT"}')).toBe(1);
    expect(delta('optgraph_inbound_messages_total{intent="HELP"}')).toBe(1);
    expect(delta('optgraph_send_decisions_total{reason="OPTED_OUT"}')).toBe(1);
    expect(delta('optgraph_send_decisions_total{reason="ALLOWED"}')).toBe(1);
    expect(delta('optgraph_send_decisions_total{reason="NO_CONSENT"}')).toBe(2);
  });

  it("counts Twilio webhook requests refused for their signature", async () => {
    const app = await testApp();
    const before = sample(await scrape(), "optgraph_twilio_signature_failures_total");
    const response = await fetch(`http://127.0.0.1:${app.server.port}/webhooks/twilio/sms`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": "bm90IGEgc2lnbmF0dXJl",
      },
      body: new URLSearchParams({ From: "+14155550186", To: "+14155550100", Body: "STOP" }),
    });
    expect(response.status).toBe(403);
    const after = sample(await scrape(), "optgraph_twilio_signature_failures_total");
    expect(after - before).toBe(1);
  });
});

describe("OPTGRAPH_METRICS_TOKEN", () => {
  const TOKEN = "metrics-token-0123456789";
  let guarded: App;
  let url: string;

  beforeAll(async () => {
    guarded = await startApp(loadConfig(testEnv({ OPTGRAPH_METRICS_TOKEN: TOKEN })), {
      logError: () => undefined,
    });
    url = `http://127.0.0.1:${guarded.server.port}/metrics`;
  });
  afterAll(() => guarded?.stop());

  it("answers 401 without the token or with another one, and the metrics with it", async () => {
    const without = await fetch(url);
    expect(without.status).toBe(401);
    expect(without.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await without.text()).not.toMatch(/process_cpu_seconds_total/);
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      TOKEN,
      `Basic ${TOKEN}`,
    ]) {
      expect((await fetch(url, { headers: { authorization } })).status).toBe(401);
    }
    const withToken = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toMatch(/^process_cpu_seconds_total \d/m);
  });

  it("leaves /metrics open when it is unset", async () => {
    expect(loadConfig(testEnv()).metricsToken).toBeUndefined();
    await scrape();
  });
});
