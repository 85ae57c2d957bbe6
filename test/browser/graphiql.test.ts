import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { chromiumAvailable, launchBrowser, openCheckedPage } from '../helpers/browser.ts';

/**
 * GraphiQL as a newcomer meets it, in headless Chromium with every other host refused: Yoga's
 * default page loads from unpkg.com and stays on "Loading…" offline; ours comes from the service.
 */
describe.skipIf(!chromiumAvailable)('GraphiQL, served by the service itself', () => {
  let service: ServiceHarness;
  let browser: Browser;

  beforeAll(async () => {
    service = await ServiceHarness.start({ listen: true, graphiql: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  it('answers the page with a Content-Security-Policy of its own origin only', async () => {
    const res = await fetch(`${service.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'self'");
    // No directive names another host or scheme that could fetch from one.
    expect(csp).not.toMatch(/https?:|\*|unsafe-eval|blob:/);
    // data: only for Monaco's generated squiggle images, never for scripts, fonts or requests.
    expect(csp.split('; ').filter((d) => d.includes('data:'))).toEqual(["img-src 'self' data:"]);
    const html = await res.text();
    expect(html).not.toMatch(/unpkg|githubusercontent|https?:\/\//);
  });

  it('serves the CSS with its embedded fonts and images as files of this origin', async () => {
    const css = await (await fetch(`${service.url}/graphiql/assets/graphiql.css`)).text();
    expect(css).not.toContain('data:');
    const urls = [...new Set([...css.matchAll(/url\((\/graphiql\/assets\/inline\/[^)]+)\)/g)].map((m) => m[1]!))];
    expect(urls.length).toBeGreaterThan(10);
    for (const url of urls) {
      const res = await fetch(`${service.url}${url}`);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(/^(font|image)\//);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  it('renders, runs the org tree tab from examples/ and shows the schema docs, reaching no other host', async () => {
    const checked = await openCheckedPage(browser, service);
    const { page } = checked;
    await page.goto(`${service.url}/graphql`);
    await page.waitForSelector('.graphiql-execute-button', { timeout: 20_000 });
    // The default tabs are the examples: org tree, people picker, user card.
    const tabs = await page.$$eval('.graphiql-tab-button', (els) => els.map((e) => e.textContent?.trim()));
    expect(tabs).toEqual(['OrgTree', 'PeoplePicker', 'UserCard']);

    await page.click('.graphiql-execute-button');
    const rootName = (await service.wecom.console('department/get', { id: 1 })).json.department.name as string;
    await page.waitForFunction(
      (name) => document.querySelector('.graphiql-response')?.textContent?.includes(name),
      { timeout: 10_000 },
      rootName,
    );
    const response = await page.$eval('.graphiql-response', (e) => e.textContent ?? '');
    expect(response).toContain('"departmentId"');
    expect(response).not.toContain('"errors"');
    await checked.screenshot('graphiql-query');

    // The editor's language worker (from this origin) flags an unknown field.
    // The whole text replaced (Monaco renders its lines in no fixed DOM order, so a click on the
    // n-th line element lands anywhere).
    await page.click('.graphiql-query-editor .view-lines');
    await page.focus('.graphiql-query-editor textarea');
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Control');
    await page.keyboard.type('{ noSuchField }');
    await page.waitForSelector('.graphiql-query-editor .squiggly-error', { timeout: 10_000 });

    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('.graphiql-doc-explorer');
    await page.waitForFunction(() => document.querySelector('.graphiql-doc-explorer')?.textContent?.includes('Query'), { timeout: 10_000 });
    await page.click('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name');
    await page.waitForFunction(() => document.querySelector('.graphiql-doc-explorer')?.textContent?.includes('searchUsers'), {
      timeout: 10_000,
    });
    await checked.screenshot('graphiql-docs');
    checked.assertClean();
    await page.close();
  });

  it('is not served when GRAPHIQL is off (production default)', async () => {
    const off = await ServiceHarness.start({ listen: true });
    try {
      const res = await fetch(`${off.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await res.text()).not.toContain('graphiql-options');
      expect((await fetch(`${off.url}/graphiql/assets/boot.js`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
