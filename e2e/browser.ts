// Headless Chromium (Debian's package) driven by playwright-core, with what each
// page did wrong recorded: dialogs (an XSS payload that ran would open one),
// Content-Security-Policy violations, and uncaught errors.
import fs from "node:fs";
import path from "node:path";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FAILURES_DIR = path.resolve(import.meta.dirname, "failures");

const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set CHROMIUM_PATH).`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

export interface Trouble {
  dialogs: string[];
  cspViolations: string[];
  pageErrors: string[];
}

/** A browser context per test; every page opened in it is watched. */
export class Session {
  readonly trouble: Trouble = { dialogs: [], cspViolations: [], pageErrors: [] };
  private readonly pages: Page[] = [];
  private readonly context: BrowserContext;

  private constructor(context: BrowserContext) {
    this.context = context;
  }

  /** A desktop-sized context, unless `options` say otherwise (a phone's viewport, a geolocation granted…). */
  static async open(browser: Browser, baseUrl: string, options: BrowserContextOptions = {}): Promise<Session> {
    const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1400, height: 860 }, ...options });
    return new Session(context);
  }

  async page(): Promise<Page> {
    const page = await this.context.newPage();
    page.on("dialog", (dialog) => {
      this.trouble.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) this.trouble.cspViolations.push(message.text());
    });
    page.on("pageerror", (error) => this.trouble.pageErrors.push(String(error)));
    this.pages.push(page);
    return page;
  }

  /** Screenshots of every page of the session, named after the failed test. */
  async screenshots(testName: string): Promise<string[]> {
    fs.mkdirSync(FAILURES_DIR, { recursive: true });
    const slug = testName.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 80);
    const saved: string[] = [];
    for (const [index, page] of this.pages.entries()) {
      const file = path.join(FAILURES_DIR, `${slug}-page${index + 1}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true });
        saved.push(file);
      } catch {
        // A page that crashed cannot be photographed; the others still are.
      }
    }
    return saved;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** Opens the client through a deep link (in a space: `base` is its /s/{key}) and waits until it is connected. */
export async function joinByLink(page: Page, room: string, nickname: string, base = ""): Promise<void> {
  await page.goto(`${base}/?room=${encodeURIComponent(room)}&nickname=${encodeURIComponent(nickname)}`);
  await waitForConnection(page, "open");
  // Attached, not visible: on a phone the list of users is behind the "People" tab.
  await page.locator("#users li", { hasText: nickname }).first().waitFor({ state: "attached" });
}

export async function waitForConnection(page: Page, state: "open", timeout = 20_000): Promise<void> {
  await page.locator(`#connection[data-state="${state}"]`).waitFor({ timeout });
}

/** Waiting to retry or retrying: anything but connected. */
export async function waitForDisconnection(page: Page, timeout = 20_000): Promise<void> {
  await page.locator('#connection:is([data-state="waiting"], [data-state="connecting"])').waitFor({ timeout });
}

export async function sendText(page: Page, text: string): Promise<void> {
  await page.locator("#composer-text").fill(text);
  await page.locator("#send").click();
}
