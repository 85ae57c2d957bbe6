import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { expect } from 'vitest';
import type { ServiceHarness } from './service.ts';

/**
 * Debian's Chromium driven by puppeteer-core, for the browser tests (test/browser). Every page
 * refuses requests to any host but the service (and records them), and records console errors
 * and uncaught exceptions; `page.assertClean()` fails the test on either.
 */

/** The Chromium binary: CHROMIUM_PATH (set by .ci/run), else Debian's. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser tests can run here. Without Chromium they are skipped on a developer's
 * machine (with a note) but fail in CI (CI=true), where .ci/run installs it.
 */
export const chromiumAvailable = existsSync(CHROMIUM_PATH) || process.env.CI === 'true';
if (!chromiumAvailable)
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium fonts-noto-cjk, or set CHROMIUM_PATH)`);

/** Screenshots of the browser tests (git-ignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../browser/artifacts/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: .ci/run installs Debian's chromium package (set CHROMIUM_PATH for another binary)`);
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root in CI containers has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=en-US', '--no-first-run', '--no-default-browser-check'],
  });
}

export interface CheckedPage {
  page: Page;
  /** Requests the page tried to make to another host (all refused). */
  foreignRequests: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** POST /graphql requests the page made, with their operation names. */
  graphqlOperations: string[];
  /** Fails unless the page made no foreign request and logged no error (except those `allowed`). */
  assertClean(allowed?: RegExp): void;
  screenshot(name: string): Promise<void>;
}

/** A page on `service` that may reach nothing else; `language` sets navigator.language (e.g. zh-CN). */
export async function openCheckedPage(
  browser: Browser,
  service: ServiceHarness,
  options: { language?: string } = {},
): Promise<CheckedPage> {
  const origin = new URL(service.url).origin;
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  if (options.language) {
    const cdp = await page.createCDPSession();
    await cdp.send('Network.setUserAgentOverride', { userAgent: await browser.userAgent(), acceptLanguage: options.language });
    await cdp.send('Emulation.setLocaleOverride', { locale: options.language });
  }
  const foreignRequests: string[] = [];
  const errors: string[] = [];
  const graphqlOperations: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = new URL(request.url());
    // data: and blob: URLs never leave the page; everything else must be the service.
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.origin === origin) {
      if (url.origin === origin && url.pathname === '/graphql' && request.method() === 'POST') {
        const body = request.postData() ?? '';
        graphqlOperations.push(/^\s*(?:query|mutation|subscription)\s+(\w+)/m.exec(JSON.parse(body).query ?? '')?.[1] ?? 'anonymous');
      }
      void request.continue();
      return;
    }
    foreignRequests.push(request.url());
    void request.abort('blockedbyclient');
  });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error instanceof Error ? error.message : String(error)}`));
  return {
    page,
    foreignRequests,
    errors,
    graphqlOperations,
    assertClean(allowed) {
      expect(foreignRequests, 'requests to other hosts').toEqual([]);
      expect(
        errors.filter((e) => !allowed?.test(e)),
        'console errors',
      ).toEqual([]);
    },
    async screenshot(name) {
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS_DIR}${name}.png` });
    },
  };
}
