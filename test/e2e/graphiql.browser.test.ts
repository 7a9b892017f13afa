// GraphiQL in headless Chromium (Debian's package, driven by playwright-core) with every request
// to anything but this machine refused, as on a locked-down network: the page loads from the
// server alone, the key entered once makes the docs show the schema, and a subscription run in
// GraphiQL receives an opt-in made through the API. Screenshots go to test-output/graphiql/.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engine, testApp } from "../support/app.ts";
import { createCampaign, uniqueLongCode } from "../support/fixtures.ts";
import { newOrganization, ok } from "../support/graphql.ts";
import { OptIn } from "../support/documents.ts";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join("test-output", "graphiql");

let base: string;
let browser: Browser;
let page: Page;
let adminKey: string;
let campaignId: string;
/** requests the page tried to make to another host (refused) */
const blocked: string[] = [];
const pageProblems: string[] = [];

/** The text of one of GraphiQL's CodeMirror 5 editors. */
const editorText = (selector: string) =>
  page.evaluate((selector) => {
    const element = document.querySelector(`${selector} .CodeMirror`) as
      (Element & { CodeMirror?: { getValue(): string } }) | null;
    return element?.CodeMirror?.getValue() ?? "";
  }, selector);

const setQuery = (text: string) =>
  page.evaluate((text) => {
    const element = document.querySelector(".graphiql-query-editor .CodeMirror") as Element & {
      CodeMirror: { setValue(value: string): void };
    };
    element.CodeMirror.setValue(text);
  }, text);

const screenshot = (name: string) =>
  page.screenshot({ path: join(SCREENSHOTS, `${engine}-${name}.png`), animations: "disabled" });

describe("GraphiQL offline", () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium package (.ci/run does it when missing)`,
      );
    }
    // the page under test is built from the sources as they are now
    execFileSync(process.execPath, ["scripts/build-graphiql.mjs"], { stdio: "inherit" });
    mkdirSync(SCREENSHOTS, { recursive: true });
    const app = await testApp();
    base = `http://127.0.0.1:${app.server.port}`;
    adminKey = (await newOrganization()).adminKey;
    campaignId = (await createCampaign(adminKey)).id;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // the network beyond this machine is closed: anything else is refused, and noted
    await context.route(
      (url) => !["127.0.0.1", "localhost"].includes(url.hostname),
      (route) => {
        blocked.push(route.request().url());
        return route.abort("blockedbyclient");
      },
    );
    page = await context.newPage();
    page.on("pageerror", (error) => pageProblems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") pageProblems.push(`console: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("loads from this server alone, with a viewport for phones", async () => {
    const response = await page.goto(`${base}/graphql`);
    expect(response?.status()).toBe(200);
    await page.locator(".graphiql-container").waitFor();
    await page.locator("#api-key").waitFor();
    expect(await page.locator('meta[name="viewport"]').getAttribute("content")).toBe(
      "width=device-width, initial-scale=1",
    );
    expect(await page.title()).toBe("optgraph GraphiQL");
    expect(blocked).toEqual([]);
  });

  it("uses the key entered once for the docs: they show the schema", async () => {
    await page.locator("#api-key").fill(adminKey);
    await page.locator("#api-key").press("Enter");
    await page.getByRole("button", { name: /documentation explorer/i }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByText("Subscription", { exact: true }).waitFor();
    await docs.getByText("Subscription", { exact: true }).click();
    await docs.getByText("consentChanged", { exact: true }).waitFor();
    await screenshot("docs");
    expect(await page.evaluate(() => sessionStorage.getItem("optgraph.apiKey"))).toBe(adminKey);
    expect(blocked).toEqual([]);
  });

  it("runs a subscription over the WebSocket with the key and receives an opt-in", async () => {
    await setQuery(
      `subscription Watch {\n  consentChanged(campaignId: "${campaignId}") {\n    toStatus\n    subscriber {\n      phone\n    }\n  }\n}\n`,
    );
    const sockets: string[] = [];
    page.on("websocket", (socket) => sockets.push(socket.url()));
    await page.locator(".graphiql-execute-button").click();
    // the subscription is live once the server holds it: a new number opts in until one arrives
    const phones: string[] = [];
    await expect
      .poll(
        async () => {
          const text = await editorText(".graphiql-response");
          if (phones.some((phone) => text.includes(phone))) return true;
          const phone = uniqueLongCode();
          phones.push(phone);
          await ok(adminKey, OptIn, { input: { phone, campaignId, method: "WEB_FORM" } });
          return false;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(true);
    expect(await editorText(".graphiql-response")).toContain('"toStatus": "OPTED_IN"');
    await screenshot("subscription");
    expect(sockets).toEqual([`ws://127.0.0.1:${new URL(base).port}/graphql`]);
    expect(blocked).toEqual([]);
    expect(pageProblems).toEqual([]);
  });
  it("fits a phone's width, with the key field and the editor on screen", async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    await phone.route(
      (url) => !["127.0.0.1", "localhost"].includes(url.hostname),
      (route) => route.abort("blockedbyclient"),
    );
    const small = await phone.newPage();
    try {
      await small.goto(`${base}/graphql`);
      await small.locator(".graphiql-query-editor").waitFor();
      // without a viewport, a mobile browser lays the page out 980 px wide and shrinks it
      expect(await small.evaluate(() => window.innerWidth)).toBe(390);
      expect(await small.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        390,
      );
      const key = await small.locator("#api-key").boundingBox();
      expect(key!.x + key!.width).toBeLessThanOrEqual(390);
      await small.screenshot({ path: join(SCREENSHOTS, `${engine}-phone.png`) });
    } finally {
      await phone.close();
    }
  });
});

describe("GraphiQL where the schema is not exposed", () => {
  it("is not served: a browser at /graphql gets the API's answer, and no assets", async () => {
    const { startApp } = await import("../../src/app.ts");
    const { loadConfig } = await import("../../src/config.ts");
    const { testEnv } = await import("../support/app.ts");
    const app = await startApp(loadConfig(testEnv({ OPTGRAPH_EXPOSE_SCHEMA: "false" })), {
      logError: () => undefined,
    });
    try {
      const url = `http://127.0.0.1:${app.server.port}`;
      const page = await fetch(`${url}/graphql`, { headers: { accept: "text/html" } });
      expect(page.status).toBeGreaterThanOrEqual(400);
      expect(await page.text()).not.toContain("<html");
      expect((await fetch(`${url}/graphiql/graphiql.js`)).status).toBe(404);
    } finally {
      await app.stop();
    }
  });
});
