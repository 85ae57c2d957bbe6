import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceHarness } from '../helpers/service.ts';

const dir = new URL('../../examples/', import.meta.url);
const examples = readdirSync(dir).filter((f) => f.endsWith('.graphql'));

/** Variables a frontend would send with each example. */
const variables: Record<string, Record<string, unknown>> = {
  'people-picker.graphql': { query: 'zhang' },
  'user-card.graphql': { userid: '' },
};

let service: ServiceHarness;
beforeAll(async () => {
  service = await ServiceHarness.start();
  const someone = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[5];
  variables['user-card.graphql'] = { userid: someone.userid };
});
afterAll(() => service.close());

describe('examples/', () => {
  it('holds the operations a frontend uses', () => {
    expect(examples).toEqual(expect.arrayContaining(['org-tree.graphql', 'people-picker.graphql', 'user-card.graphql', 'department-dashboard.graphql', 'linked-corp-browser.graphql']));
  });

  it.each(examples)('%s runs against the emulator without errors and returns data', async (file) => {
    const res = await service.query(readFileSync(new URL(file, dir), 'utf8'), variables[file]);
    expect(res.errors).toBeUndefined();
    const values = Object.values(res.data ?? {});
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) expect(v === null || (Array.isArray(v) && v.length === 0)).toBe(false);
  });
});
