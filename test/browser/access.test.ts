import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';
import { chromiumAvailable, launchBrowser, openCheckedPage, type CheckedPage } from '../helpers/browser.ts';
import { keysOnly, testKey } from '../security/helpers.ts';

/**
 * The explorer with API keys (no anonymous access): the key pasted in the page is used for every
 * request and kept in the tab's session only; a key without directory:pii sees personal fields
 * marked hidden, not empty; a wrong key gets a clear refusal.
 */

const READER = testKey('reader', ['directory:read']);
const PII_READER = testKey('pii-reader', ['directory:read', 'directory:pii']);
/** Limited to department 2's subtree. */
const TEAM_READER = testKey('team-reader', ['directory:read'], [2]);
const PII_FIELDS = ['mobile', 'email', 'bizMail', 'telephone', 'address'];

describe.skipIf(!chromiumAvailable)('the org explorer with API keys', () => {
  let service: ServiceHarness;
  let browser: Browser;
  let userid: string;

  beforeAll(async () => {
    service = await ServiceHarness.start({ listen: true, security: keysOnly([READER, PII_READER, TEAM_READER]) });
    browser = await launchBrowser();
    userid = (await service.wecom.console('user/list', { department_id: 2 })).json.userlist[0].userid;
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  async function withKey(key: string): Promise<CheckedPage> {
    const checked = await openCheckedPage(browser, service);
    const { page } = checked;
    await page.goto(`${service.url}/`);
    // Without a key every request is refused (no anonymous access here): the page says so.
    await page.waitForSelector('.tree .note.refused');
    await page.waitForSelector('[data-testid="live"][data-state="refused"]');
    expect(await page.$eval('.tree .note.refused', (e) => e.textContent)).toContain('UNAUTHENTICATED');
    // Chromium logs those 401 answers as console errors; from here on, none may appear.
    expect(checked.errors.every((e) => /status of 401\b/.test(e))).toBe(true);
    checked.errors.length = 0;
    await page.type('input[name="api-key"]', key);
    await page.click('.key button[type="submit"]');
    return checked;
  }

  async function openCard(checked: CheckedPage): Promise<void> {
    const { page } = checked;
    await page.type('.search', userid);
    await page.waitForSelector(`.results .person[data-userid="${userid}"]`);
    await page.click(`.results .person[data-userid="${userid}"]`);
    await page.waitForSelector(`.card[data-userid="${userid}"] .card-name`);
  }

  it('shows personal fields as hidden to a key without directory:pii', async () => {
    const checked = await withKey(READER.key);
    const { page } = checked;
    await page.waitForSelector('.level.root > .dept > .level > .dept');
    expect(await page.$eval('[data-testid="caller"]', (e) => e.textContent)).toBe('Access: directory:read');
    await openCard(checked);
    const member = (await service.wecom.console('user/get', { userid })).json;
    expect(await page.$eval('.card .card-name', (e) => e.textContent)).toBe(member.name);
    for (const field of PII_FIELDS) {
      expect(
        await page.$eval(`.card [data-field="${field}"] .value`, (e) => [e.getAttribute('data-hidden'), e.textContent]),
        field,
      ).toEqual(['true', 'hidden']);
    }
    // The key stays in this tab's session, never in localStorage.
    expect(await page.evaluate(() => [sessionStorage.getItem('wecom-explorer.api-key'), localStorage.length])).toEqual([READER.key, 0]);
    await checked.screenshot('explorer-masked');
    checked.assertClean();
    await page.close();
  });

  it('shows them to a key with directory:pii, and empty fields as not set', async () => {
    const checked = await withKey(PII_READER.key);
    const { page } = checked;
    await page.waitForSelector('.level.root > .dept > .level > .dept');
    await openCard(checked);
    const member = (await service.wecom.console('user/get', { userid })).json;
    expect(await page.$eval('.card [data-field="mobile"] .value', (e) => e.textContent)).toBe(member.mobile);
    expect(await page.$eval('.card [data-field="email"] .value', (e) => e.textContent)).toBe(member.email);
    expect(await page.$$('.card [data-hidden]')).toHaveLength(0);
    const emptyShown = await page.$$eval('.card .value.empty', (els) => els.length);
    expect(emptyShown).toBe(['telephone', 'address'].filter((f) => !member[f]).length);
    checked.assertClean();
    await page.close();
  });

  it('starts the tree from the departments a limited key may see', async () => {
    const checked = await withKey(TEAM_READER.key);
    const { page } = checked;
    await page.waitForSelector('.level.root > .dept[data-department-id="2"] > .level > .dept');
    const department = (await service.wecom.console('department/get', { id: 2 })).json.department;
    expect(await page.$$eval('.level.root > .dept', (els) => els.map((e) => e.getAttribute('data-department-id')))).toEqual(['2']);
    expect(await page.$eval('.level.root > .dept > .dept-row .dept-name', (e) => e.textContent)).toBe(department.name);
    checked.assertClean();
    await page.close();
  });

  it('says clearly that a request was refused for a wrong key', async () => {
    const checked = await withKey('not-a-key-0123456789abcdef');
    const { page } = checked;
    // The tree is read again with the new key (and refused again).
    await vi.waitFor(() => expect(checked.graphqlOperations.filter((op) => op === 'ExplorerDepartment')).toHaveLength(2));
    await page.waitForFunction(() => document.querySelector('[data-testid="live"]')?.getAttribute('data-state') === 'refused');
    await page.waitForSelector('.tree .note.refused');
    const note = await page.$eval('.note.refused', (e) => e.textContent ?? '');
    expect(note).toContain('Refused');
    expect(note).toContain('UNAUTHENTICATED');
    expect(await page.$eval('[data-testid="live"]', (e) => e.getAttribute('data-state'))).toBe('refused');
    await checked.screenshot('explorer-refused');
    // Chromium logs each 401 answer as a console error; nothing else may appear.
    checked.assertClean(/status of 401\b/);
    await page.close();
  });
});
