import { readdirSync, readFileSync } from 'node:fs';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect } from 'vitest';
import { serviceTest } from '../testkit/service.ts';

const dir = new URL('../../examples/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.graphql'));

/** Every query and mutation of examples/ (subscriptions are exercised by the job and change tests). */
const operations = files.flatMap((file) => {
  const source = readFileSync(new URL(file, dir), 'utf8');
  return parse(source)
    .definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.operation !== 'subscription')
    .map((op) => ({ file, name: op.name!.value, source }));
});

/** Variables a frontend would send with each operation. */
const variables: Record<string, Record<string, unknown>> = {
  PeoplePicker: { query: 'zhang' },
  CreateUser: { input: { userid: 'example.hire', name: '示例新人', departmentIds: [2], mobile: '13912345678' } },
  ImportUsers: { rows: [{ userid: 'import.one', name: '导入一', departmentIds: [2], mobile: '13912340001' }] },
};

const it = serviceTest(
  {},
  {
    resetStats: false,
    prepare: async (service) => {
      const someone = (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist[5];
      variables.UserCard = { userid: someone.userid };
    },
  },
);

describe('examples/', () => {
  it('holds the operations a frontend uses', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'org-tree.graphql',
        'people-picker.graphql',
        'user-card.graphql',
        'department-dashboard.graphql',
        'linked-corp-browser.graphql',
      ]),
    );
  });

  it.for(operations)('$file $name runs against the emulator and returns data', async ({ name, source }, { service }) => {
    const res = await service.app.yoga.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: source, operationName: name, variables: variables[name] }),
    });
    const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    const values = Object.values(body.data ?? {});
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) {
      expect(v === null || (Array.isArray(v) && v.length === 0)).toBe(false);
      // mutations answer their Success type, not an error type
      if (v && typeof v === 'object' && '__typename' in v) expect(String(v.__typename)).toMatch(/Success$/);
    }
  });
});
