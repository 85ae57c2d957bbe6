import { gzipSync } from 'node:zlib';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { chromiumAvailable, launchBrowser, openCheckedPage, type CheckedPage } from '../helpers/browser.ts';
import { deliverCallbacks } from '../testkit/callback.ts';
import { CONTENT_SECURITY_POLICY } from '../../src/web/csp.ts';

/**
 * The org explorer at `/`, in headless Chromium with every other host refused: the tree read
 * level by level, the people picker, the member card, and a change made in the emulator's
 * console reaching the open page over the contactChanged subscription.
 */

interface ConsoleUser {
  userid: string;
  name: string;
  position?: string;
  department: number[];
}

/** The JS+CSS budget of the explorer, gzipped (issue 17). */
const BUNDLE_BUDGET_BYTES = 150 * 1024;

describe.skipIf(!chromiumAvailable)('the org explorer', () => {
  let service: ServiceHarness;
  let browser: Browser;

  beforeAll(async () => {
    service = await ServiceHarness.start({ listen: true, callback: true });
    await deliverCallbacks(service);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  async function consoleUsers(departmentId: number, recursive = false): Promise<ConsoleUser[]> {
    return (await service.wecom.console('user/list', { department_id: departmentId, ...(recursive ? { fetch_child: 1 } : {}) })).json
      .userlist;
  }

  async function openExplorer(): Promise<CheckedPage> {
    const checked = await openCheckedPage(browser, service);
    await checked.page.goto(`${service.url}/`);
    await checked.page.waitForSelector('.level.root > .dept > .level > .dept');
    return checked;
  }

  it('is served with a same-origin CSP, hashed assets cached for a year, within its size budget', async () => {
    const res = await fetch(`${service.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css'))).toBe(true);
    let gzipped = 0;
    for (const asset of assets) {
      const a = await fetch(`${service.url}${asset}`);
      expect(a.status).toBe(200);
      expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      gzipped += gzipSync(Buffer.from(await a.arrayBuffer()), { level: 9 }).length;
    }
    expect(gzipped).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
    // An unknown asset is a 404, not the page.
    expect((await fetch(`${service.url}/assets/nope.js`)).status).toBe(404);
  });

  it('expands the org tree level by level, one query per expansion, with member counts', async () => {
    const checked = await openExplorer();
    const { page } = checked;
    // A cold load's first paint, for the record (the target is 1 s; the bound here only catches a
    // page that stalls, as the machine is shared).
    const paint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1);
    console.info(`explorer first contentful paint: ${Math.round(paint)} ms`);
    expect(paint).toBeGreaterThan(0);
    expect(paint).toBeLessThan(10_000);
    // The root opens by itself: one query for its level.
    expect(checked.graphqlOperations.filter((op) => op === 'ExplorerDepartment')).toHaveLength(1);
    const tree: { id: number; name: string; parentid: number }[] = (await service.wecom.console('department/list')).json.department;
    const firstLevel = tree.filter((d) => d.parentid === 1);
    const shown = await page.$$eval('.level.root > .dept > .level > .dept > .dept-row', (rows) =>
      rows.map((r) => ({ name: r.querySelector('.dept-name')?.textContent, count: Number(r.querySelector('.count')?.textContent) })),
    );
    const expected = await Promise.all(
      firstLevel.map(async (d) => ({ name: d.name, count: new Set((await consoleUsers(d.id, true)).map((u) => u.userid)).size })),
    );
    expect(shown).toEqual(expected);

    // Expanding a department reads its level: exactly one more query.
    const target = firstLevel[0]!;
    await page.click(`.dept[data-department-id="${target.id}"] > .dept-row .toggle`);
    await page.waitForSelector(`.dept[data-department-id="${target.id}"] > .level`);
    expect(checked.graphqlOperations.filter((op) => op === 'ExplorerDepartment')).toHaveLength(2);
    const children = await page.$$eval(`.dept[data-department-id="${target.id}"] > .level > .dept .dept-name`, (els) =>
      els.map((e) => e.textContent),
    );
    expect(children).toEqual(tree.filter((d) => d.parentid === target.id).map((d) => d.name));
    await checked.screenshot('explorer-tree');
    checked.assertClean();
    await page.close();
  });

  it('finds people by pinyin as one types and opens their card', async () => {
    const checked = await openExplorer();
    const { page } = checked;
    // Two levels open, as in docs/images/explorer.png (this test's screenshot).
    await page.click('.level.root > .dept > .level > .dept:first-child > .dept-row .toggle');
    await page.waitForSelector('.level.root > .dept > .level > .dept:first-child > .level > .dept');
    await page.click('.level.root > .dept > .level > .dept:first-child > .level > .dept:first-child > .dept-row .toggle');
    await page.waitForSelector('.level.root > .dept > .level > .dept:first-child > .level > .dept:first-child .members');
    await page.type('.search', 'zhang');
    await page.waitForSelector('.results .person');
    const expected = (await service.query('{ searchUsers(query: "zhang", first: 20) { totalCount nodes { userid } } }')).data!.searchUsers;
    await page.waitForFunction((n) => document.querySelectorAll('.results .person').length === n, {}, expected.nodes.length);
    const shown = await page.$$eval('.results .person', (els) => els.map((e) => e.getAttribute('data-userid')));
    expect(shown).toEqual(expected.nodes.map((n: { userid: string }) => n.userid));
    expect(shown.length).toBeGreaterThan(0);

    const userid = shown[0]!;
    await page.click(`.results .person[data-userid="${userid}"]`);
    await page.waitForSelector(`.card[data-userid="${userid}"] .card-name`);
    const member = (await service.wecom.console('user/get', { userid })).json;
    expect(await page.$eval('.card .card-name', (e) => e.textContent)).toBe(member.name);
    expect(await page.$eval('.card [data-field="position"]', (e) => e.textContent)).toBe(member.position);
    // Full access (no key configured): personal fields are shown, none hidden.
    expect(await page.$eval('.card [data-field="mobile"]', (e) => e.textContent)).toBe(member.mobile);
    expect(await page.$$('.card [data-hidden]')).toHaveLength(0);
    await checked.screenshot('explorer-card');
    checked.assertClean();
    await page.close();
  });

  it('shows a change made in the WeCom console on the open card within 2 s, without a reload', async () => {
    const checked = await openExplorer();
    const { page } = checked;
    await page.waitForSelector('[data-testid="live"][data-state="live"]');
    const someone = (await consoleUsers(2))[0]!;
    await page.type('.search', someone.userid);
    await page.waitForSelector(`.results .person[data-userid="${someone.userid}"]`);
    await page.click(`.results .person[data-userid="${someone.userid}"]`);
    await page.waitForSelector(`.card[data-userid="${someone.userid}"] .card-name`);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));

    const started = Date.now();
    expect((await service.wecom.console('user/update', { userid: someone.userid, position: '首席布道师' })).json.errcode).toBe(0);
    await page.waitForFunction(() => document.querySelector('.card [data-field="position"]')?.textContent === '首席布道师', {
      timeout: 2_000,
      polling: 50,
    });
    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeLessThan(2_000);
    expect(navigations).toEqual([]);
    expect(await page.$('.card [data-testid="updated"]')).not.toBeNull();
    await checked.screenshot('explorer-live');
    checked.assertClean();
    await page.close();
  });

  it('shows a department renamed in the WeCom console in the open tree', async () => {
    const checked = await openExplorer();
    const { page } = checked;
    await page.waitForSelector('[data-testid="live"][data-state="live"]');
    const tree: { id: number; name: string; parentid: number }[] = (await service.wecom.console('department/list')).json.department;
    const target = tree.filter((d) => d.parentid === 1).at(-1)!;
    expect((await service.wecom.console('department/update', { id: target.id, name: '直播中心' })).json.errcode).toBe(0);
    await page.waitForFunction(
      (id) => document.querySelector(`.dept[data-department-id="${id}"] > .dept-row .dept-name`)?.textContent === '直播中心',
      { timeout: 2_000, polling: 50 },
      target.id,
    );
    checked.assertClean();
    await page.close();
  });

  it('counts a member added in the WeCom console in the open tree', async () => {
    const checked = await openExplorer();
    const { page } = checked;
    await page.waitForSelector('[data-testid="live"][data-state="live"]');
    const tree: { id: number; parentid: number }[] = (await service.wecom.console('department/list')).json.department;
    const target = tree.find((d) => d.parentid === 1)!;
    const countShown = () => page.$eval(`.dept[data-department-id="${target.id}"] > .dept-row .count`, (e) => Number(e.textContent));
    const before = await countShown();
    expect(before).toBe(new Set((await consoleUsers(target.id, true)).map((u) => u.userid)).size);
    const created = await service.wecom.console('user/create', {
      userid: 'browser.newcomer',
      name: '新同事',
      department: [target.id],
      mobile: '13900001717',
    });
    expect(created.json.errcode).toBe(0);
    await page.waitForFunction(
      (id, n) => Number(document.querySelector(`.dept[data-department-id="${id}"] > .dept-row .count`)?.textContent) === n,
      { timeout: 2_000, polling: 50 },
      target.id,
      before + 1,
    );
    checked.assertClean();
    await page.close();
  });

  it('labels in Chinese for a Chinese browser', async () => {
    const checked = await openCheckedPage(browser, service, { language: 'zh-CN' });
    await checked.page.goto(`${service.url}/`);
    await checked.page.waitForSelector('.level.root > .dept > .level > .dept');
    expect(await checked.page.$eval('h1', (e) => e.textContent)).toBe('企业微信通讯录浏览器');
    expect(await checked.page.$eval('html', (e) => e.lang)).toBe('zh-CN');
    expect(await checked.page.$eval('.search', (e) => e.getAttribute('placeholder'))).toContain('拼音');
    await checked.screenshot('explorer-zh');
    checked.assertClean();
    await checked.page.close();
  });
});
