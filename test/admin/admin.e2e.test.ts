// End to end: the admin view (/admin) in headless Chromium (Debian's package, driven by
// playwright-core) against a server of its own. A person signs in with the keyboard, watches an
// opt-out made through the API arrive in the live feed within a second, loses the WebSocket and
// gets back exactly what was missed, reads a subscriber's timeline, decides a flagged message
// (its due date shown, a note, "not a revocation"), and uses it all at a phone's width. Screenshots go to test-output/admin/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { chromium, type Browser, type Page, type WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { graphql } from "../generated/gql.ts";
import { engine, PLATFORM_KEY, testEnv } from "../support/app.ts";
import { disclosures, uniqueLongCode } from "../support/fixtures.ts";
import {
  ActivateCampaign,
  CreateCampaign,
  CreateOrganization,
  CreateSender,
  OptIn,
  OptOut,
  ReceiveInboundMessage,
} from "../support/documents.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join("test-output", "admin");

// ---------------------------------------------------------------------------------------------
// The API calls that set the scene and make events happen

const KeywordEventReviewed = graphql(`
  query AdminE2eKeywordEvent($id: ID!) {
    node(id: $id) {
      ... on KeywordEvent {
        reviewedAt
        reviewDecision
        reviewNote
      }
    }
  }
`);

const TexterConsents = graphql(`
  query AdminE2eTexterConsents($phone: String!) {
    subscriber(phone: $phone) {
      consents {
        status
      }
    }
  }
`);

// ---------------------------------------------------------------------------------------------

let app: App;
let base: string;
let browser: Browser;
let page: Page;
let adminKey: string;
let campaignId: string;
let senderAddress: string;
const phone = uniqueLongCode(); // opts in, then out through the API
const texter = uniqueLongCode(); // opts in, then texts a revocation in other words
let flaggedMessage: { id: string; cursor: string; reviewDueAt?: string | null };
let lastOptOut: { id: string; cursor: string; sequence: number; hash: string };

/** Every problem the page reports: script errors, failed requests, CSP violations. */
const pageProblems: string[] = [];

/** The page's open WebSockets, what it sent over them, and a switch that refuses new ones. */
const sockets = {
  open: [] as WebSocketRoute[],
  blocked: false,
  subscribes: [] as { query: string; variables?: { after?: string | null } }[],
};

async function ok<T, V>(key: string, document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const focused = () =>
  page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    const style = element ? getComputedStyle(element) : null;
    return {
      id: element?.id ?? "",
      tag: element?.tagName ?? "",
      text: element?.textContent?.trim() ?? "",
      outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : "",
    };
  });

/** Presses Tab (or Shift+Tab) until `matches` holds for the focused element. */
async function tabTo(
  matches: (element: Awaited<ReturnType<typeof focused>>) => boolean,
  key: "Tab" | "Shift+Tab" = "Tab",
) {
  for (let presses = 1; presses <= 80; presses++) {
    await page.keyboard.press(key);
    const element = await focused();
    if (matches(element)) return { element };
  }
  throw new Error(
    `Tab never reached the element; last focused: ${JSON.stringify(await focused())}`,
  );
}

const screenshot = (name: string) =>
  page.screenshot({
    path: join(SCREENSHOTS, `${engine}-${name}.png`),
    fullPage: true,
    animations: "disabled",
  });

describe("admin view in a browser", () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium package (.ci/run does it when missing)`,
      );
    }
    // the page under test is built from the sources as they are now
    execFileSync(process.execPath, ["scripts/build-admin.mjs"], { stdio: "inherit" });
    mkdirSync(SCREENSHOTS, { recursive: true });

    app = await startApp(loadConfig(testEnv()), { logError: () => undefined });
    base = `http://127.0.0.1:${app.server.port}`;

    adminKey = (await ok(PLATFORM_KEY, CreateOrganization, { name: `admin e2e ${Date.now()}` }))
      .createOrganization.secret;
    const { sender } = (
      await ok(adminKey, CreateSender, { input: { address: uniqueLongCode(), kind: "LONG_CODE" } })
    ).createSender;
    senderAddress = sender.address;
    campaignId = (
      await ok(adminKey, CreateCampaign, {
        input: {
          name: "Spring deals",
          purpose: "MARKETING",
          senderId: sender.id,
          keywords: ["DEALS"],
          doubleOptIn: false,
          disclosures: disclosures("Acme Deals"),
        },
      })
    ).createCampaign.campaign.id;
    await ok(adminKey, ActivateCampaign, { id: campaignId });
    for (const number of [phone, texter]) {
      await ok(adminKey, OptIn, {
        input: {
          phone: number,
          campaignId,
          method: "WEB_FORM",
          evidence: { ip: "203.0.113.7", pageUrl: "https://acme.example/join" },
        },
      });
    }
    const inbound = await ok(adminKey, ReceiveInboundMessage, {
      input: { from: texter, to: senderAddress, body: "no more texts please" },
    });
    expect(inbound.receiveInboundMessage.keywordEvent.needsReview).toBe(true);
    flaggedMessage = inbound.receiveInboundMessage.keywordEvent;

    // a fresh, temporary profile each launch; the flags keep Chromium off this machine's closed network
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (error) => pageProblems.push(`page error: ${error.message}`));
    page.on("response", (response) => {
      if (response.status() >= 400)
        pageProblems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    page.on("console", (message) => {
      if (message.type() === "error") pageProblems.push(`console: ${message.text()}`);
    });
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      if (sockets.blocked) return ws.close({ code: 1013, reason: "Try again later (test)" });
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const parsed = JSON.parse(String(message)) as { type: string; payload?: unknown };
        if (parsed.type === "subscribe") {
          sockets.subscribes.push(parsed.payload as (typeof sockets.subscribes)[number]);
        }
        server.send(message);
      });
      sockets.open.push(ws);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("serves the page with a restrictive Content-Security-Policy", async () => {
    const response = await fetch(`${base}/admin`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const policy = response.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("form-action 'none'");
    expect(policy).not.toContain("unsafe");
    const script = await fetch(`${base}/admin/admin.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await fetch(`${base}/admin/package.json`)).status).toBe(404);
    expect((await fetch(`${base}/admin/.index.html.1`)).status).toBe(404);
    expect((await fetch(`${base}/admin`, { method: "POST" })).status).toBe(405);
  });

  it("signs in with the keyboard alone, keeping the key in the tab's session only", async () => {
    await page.goto(`${base}/admin`);
    await page.locator("#api-key").waitFor();
    // the key field has focus; before it only the skip link, after it the sign-in button
    expect((await focused()).id).toBe("api-key");
    await page.keyboard.press("Shift+Tab");
    expect((await focused()).text).toBe("Skip to content");
    const field = await tabTo(() => true);
    expect(field.element.id).toBe("api-key");
    const button = await tabTo(() => true);
    expect(button.element.text).toBe("Sign in");
    expect(button.element.outline).toMatch(/^solid [3-9]px$/); // a visible focus ring
    expect(await page.getByLabel("API key").count()).toBe(1);

    // a wrong key is refused with a message, and nothing is kept
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.type("og_not_a_real_key_at_all");
    await page.keyboard.press("Enter");
    await expect
      .poll(() => page.locator("#sign-in-error").textContent())
      .toBe("That API key is unknown or revoked.");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(pageProblems.splice(0).filter((problem) => !problem.includes("401"))).toEqual([]);

    await page.keyboard.type(adminKey);
    await page.keyboard.press("Enter");
    await page.locator('#live-status[data-state="live"]').waitFor({ timeout: 10_000 });
    expect(await page.locator("#organization-name").textContent()).toMatch(/^admin e2e/);
    expect(await page.locator("#role").textContent()).toBe("ADMIN");
    const stored = await page.evaluate(() => ({
      session: Object.values(sessionStorage),
      local: localStorage.length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ session: [adminKey], local: 0, cookies: "" });
  });

  it("shows the campaign's counters and the flagged message", async () => {
    const row = page.locator(`tr[data-campaign-id="${campaignId}"]`);
    await expect.poll(() => row.locator("th .campaign-name").textContent()).toBe("Spring deals");
    expect(await row.locator('[data-counter="optedIn"]').textContent()).toBe("1");
    expect(await row.locator('[data-counter="optedOut"]').textContent()).toBe("1");
    const flagged = page.locator(`#review-list li[data-id="${flaggedMessage.id}"]`);
    expect(await flagged.locator(".message-body").textContent()).toBe("no more texts please");
  });

  it("shows an opt-out made through the API in the feed within a second, and counts it", async () => {
    const { optOut } = await ok(adminKey, OptOut, {
      input: { phone, campaignId, method: "API", reason: "asked by email" },
    });
    const committed = Date.now();
    lastOptOut = optOut.events[0];
    const entry = page.locator(`#feed li[data-kind="consent"]`).filter({ hasText: phone }).filter({
      hasText: "Opted out",
    });
    await entry.first().waitFor({ timeout: 1000 });
    expect(Date.now() - committed).toBeLessThan(1000);
    expect(await entry.first().textContent()).toContain("Spring deals");
    // the feed is announced politely as entries arrive
    expect(await page.locator("#feed").getAttribute("role")).toBe("log");
    expect(await page.locator("#feed").getAttribute("aria-live")).toBe("polite");

    const row = page.locator(`tr[data-campaign-id="${campaignId}"]`);
    await expect.poll(() => row.locator('[data-counter="optedOut"]').textContent()).toBe("2");
    expect(await row.locator('[data-counter="optedIn"]').textContent()).toBe("0");
    await screenshot("desktop-feed");
  });

  it("resumes after a lost connection with the last cursor: nothing missed, nothing twice", async () => {
    const before = sockets.subscribes.length;
    sockets.blocked = true;
    // the page sees the server restart (1012); its connection to the server closes with it
    for (const socket of sockets.open.splice(0)) {
      await socket.close({ code: 1012, reason: "Service restart (test)" });
    }
    await page.locator('#live-status[data-state="reconnecting"]').waitFor();

    // while the page is cut off: a consent change and an inbound message
    const { optIn } = await ok(adminKey, OptIn, {
      input: { phone, campaignId, method: "API" }, // re-adding an opted-out number: PENDING
    });
    const missed = optIn.event!;
    await ok(adminKey, ReceiveInboundMessage, {
      input: { from: texter, to: senderAddress, body: "HELP" },
    });

    sockets.blocked = false;
    await page.locator('#live-status[data-state="live"]').waitFor({ timeout: 15_000 });
    // each stream resubscribed once, behind the last event it had shown
    const resumedAfter = (field: string) =>
      sockets.subscribes
        .slice(before)
        .filter((payload) => payload.query.includes(field))
        .map((payload) => payload.variables?.after);
    await expect.poll(() => resumedAfter("consentChanged(")).toEqual([lastOptOut.cursor]);
    await expect.poll(() => resumedAfter("keywordEventReceived(")).toEqual([flaggedMessage.cursor]);

    const consentEntries = page.locator('#feed li[data-kind="consent"]');
    await expect
      .poll(() => consentEntries.filter({ hasText: "Pending" }).filter({ hasText: phone }).count())
      .toBe(1);
    await expect
      .poll(() => page.locator('#feed li[data-kind="message"]').filter({ hasText: "HELP" }).count())
      .toBe(1);
    const sequences = await consentEntries.evaluateAll((items) =>
      items.map((item) => Number((item as HTMLElement).dataset.sequence)),
    );
    expect(sequences.filter((sequence) => sequence === lastOptOut.sequence)).toHaveLength(1);
    expect(sequences[0]).toBe(missed.sequence);
    expect(new Set(sequences).size).toBe(sequences.length);
  });

  it("looks up the subscriber and shows the opt-out in the timeline with its hashes", async () => {
    const national = phone.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, "($1) $2-$3");
    await page.getByLabel("Phone number").fill(national);
    await page.getByLabel("Phone number").press("Enter");
    const event = page.locator(`.timeline li[data-event-id="${lastOptOut.id}"]`);
    await event.waitFor();
    expect(await event.locator(".hashes .hash").first().textContent()).toBe(lastOptOut.hash);
    expect(await event.textContent()).toContain("asked by email");
    expect(await page.locator(".ledger-check").textContent()).toContain("Ledger verified");
    expect(await page.locator(".disclosures").textContent()).toContain("version 1");
    expect(await page.locator("#lookup-result h3").textContent()).toBe(phone);
    // the lookup moves focus to the result, so the keyboard continues from there
    expect((await focused()).text).toBe(phone);
    await screenshot("desktop-subscriber");

    // a number in the feed opens that subscriber: the texter's opt-out shows the message behind it
    await page.locator('#feed li[data-kind="message"] button.phone').first().click();
    await expect.poll(() => page.locator("#lookup-result h3").textContent()).toBe(texter);
    const keywordEvent = page.locator(".timeline-event").filter({ hasText: "by keyword" });
    expect(await keywordEvent.locator(".message-body").textContent()).toBe("no more texts please");
    expect(await page.getByLabel("Phone number").inputValue()).toBe(texter);
  });

  it("gives every visible text a contrast of at least 4.5:1 against its background", async () => {
    const lowContrast = await page.evaluate(() => {
      const rgb = (color: string) => {
        const parts =
          /rgba?\(([^)]+)\)/
            .exec(color)?.[1]
            .split(/[\s,/]+/)
            .map(Number) ?? [];
        return { r: parts[0] ?? 0, g: parts[1] ?? 0, b: parts[2] ?? 0, a: parts[3] ?? 1 };
      };
      const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
        const channel = (value: number) => {
          const v = value / 255;
          return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      };
      const backgroundOf = (start: Element) => {
        for (let element: Element | null = start; element; element = element.parentElement) {
          const color = rgb(getComputedStyle(element).backgroundColor);
          if (color.a > 0) return color;
        }
        return { r: 255, g: 255, b: 255, a: 1 };
      };
      const problems: string[] = [];
      const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = texts.nextNode(); node; node = texts.nextNode()) {
        const element = node.parentElement;
        const text = node.textContent?.trim();
        if (!element || !text || !element.checkVisibility()) continue;
        const [light, dark] = [
          luminance(rgb(getComputedStyle(element).color)),
          luminance(backgroundOf(element)),
        ].sort((a, b) => b - a);
        const ratio = (light + 0.05) / (dark + 0.05);
        if (ratio < 4.5) problems.push(`${ratio.toFixed(2)}:1 "${text.slice(0, 40)}"`);
      }
      return problems;
    });
    expect(lowContrast).toEqual([]);
  });

  it("decides the flagged message with the keyboard: its due date, a note, not a revocation", async () => {
    const flagged = page.locator(`#review-list li[data-id="${flaggedMessage.id}"]`);
    expect(flaggedMessage.reviewDueAt).toBeTruthy();
    expect(await flagged.locator(".review-due time").getAttribute("datetime")).toBe(
      flaggedMessage.reviewDueAt,
    );
    expect(await flagged.locator(".review-due").textContent()).toMatch(/^Decide by /);
    // from the subscriber's record back up the page to the review queue
    const reached = await tabTo(
      (element) => element.text.startsWith("Not a revocation"),
      "Shift+Tab",
    );
    expect(reached.element.tag).toBe("BUTTON");
    expect(reached.element.outline).toMatch(/^solid [3-9]px$/);
    await page.keyboard.press("Shift+Tab");
    expect((await focused()).text).toMatch(/^Revocation: keep the opt-out/);
    await page.keyboard.press("Shift+Tab");
    expect((await focused()).tag).toBe("TEXTAREA");
    await page.keyboard.type("asked about an order, not to stop");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect((await focused()).text).toMatch(/^Not a revocation/);
    await page.keyboard.press("Enter");
    await flagged.waitFor({ state: "detached" });
    expect(await page.locator("#review-empty").isVisible()).toBe(true);
    expect((await focused()).id).toBe("review-title");
    expect(await page.locator("#review-status").textContent()).toContain("1 consent change");
    const { node } = await ok(adminKey, KeywordEventReviewed, { id: flaggedMessage.id });
    expect(node).toMatchObject({
      reviewedAt: expect.any(String),
      reviewDecision: "NOT_REVOCATION",
      reviewNote: "asked about an order, not to stop",
    });
    // the opt-out it applied is reversed: the texter is subscribed again
    const { subscriber } = await ok(adminKey, TexterConsents, { phone: texter });
    expect(subscriber?.consents.map((c) => c.status)).toEqual(["OPTED_IN"]);
    await screenshot("review-decided");
  });

  it("fits a phone's width (375 px) without sideways scrolling", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
    }));
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    await screenshot("phone-dashboard");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#api-key").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect((await focused()).id).toBe("api-key");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await screenshot("phone-sign-in");
  });

  it("reported no script errors or policy violations", () => {
    expect(pageProblems).toEqual([]);
  });
});
