import { describe, expect } from 'vitest';
import { SseSubscription } from '../helpers/sse.ts';
import { freePort } from '../helpers/service-process.ts';
import { graphql } from '../generated/index.ts';
import { executor } from '../testkit/execute.ts';
import { processTest as it } from '../testkit/ops.ts';

/**
 * `npm start` with no credentials (src/main.ts, embedded mode): the emulator's contacts-sync
 * callback points at the service with the demo token and key from the start, so a change made in
 * the emulator's console flows to subscribers and to the next query with no set-up.
 */

const CHILDREN = graphql(`
  query EmbeddedChildren {
    department(id: 1) { children { departmentId name } }
  }
`);
const DEPARTMENT_UPDATES = graphql(`
  subscription EmbeddedDepartmentUpdates {
    contactChanged(types: [DEPARTMENT_UPDATED]) { kind source departmentId changedFields }
  }
`);

describe('embedded mode', () => {
  it('delivers a console change to a subscriber and to the next query, with no set-up', async ({ startProcess }) => {
    const emulatorPort = await freePort();
    const service = await startProcess({ WECOM_EMULATOR_PORT: String(emulatorPort), LOG_LEVEL: 'silent' });
    const emulator = `http://127.0.0.1:${emulatorPort}`;
    // The start-up banner (stdout, which may arrive after /healthz answered) names the callback URL.
    await expect.poll(() => service.output).toContain(`change callbacks ${service.url}/wecom/callback`);
    const execute = executor(service);

    const sub = await SseSubscription.subscribe((url, init) => fetch(url, init), `${service.url}/graphql`, DEPARTMENT_UPDATES);
    try {
      const tree = await execute(CHILDREN);
      const [first] = tree.data!.department!.children;
      // the repeat is answered from the cache
      await fetch(`${emulator}/__emulator/stats/reset`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      expect(await execute(CHILDREN)).toEqual(tree);
      expect(((await (await fetch(`${emulator}/__emulator/stats`)).json()) as { total: number }).total).toBe(0);

      const res = await fetch(`${emulator}/__emulator/console/department/update`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: first!.departmentId, name: '嵌入式改名' }),
      });
      expect(((await res.json()) as { errcode: number }).errcode).toBe(0);
      expect(await sub.next(2_000)).toEqual({
        data: {
          contactChanged: { kind: 'DEPARTMENT_UPDATED', source: 'CALLBACK', departmentId: first!.departmentId, changedFields: ['name'] },
        },
      });
      const after = await execute(CHILDREN);
      expect(after.data!.department!.children[0]).toEqual({ departmentId: first!.departmentId, name: '嵌入式改名' });
    } finally {
      sub.close();
    }
  });
});
