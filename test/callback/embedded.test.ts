import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseSubscription } from '../helpers/sse.ts';
import { freePort } from '../helpers/service-process.ts';

/**
 * `npm start` with no credentials (src/main.ts, embedded mode): the emulator's contacts-sync
 * callback points at the service with the demo token and key from the start, so a change made in
 * the emulator's console flows to subscribers and to the next query with no set-up.
 */

let child: ChildProcess;
let graphql: string;
let emulator: string;

beforeAll(async () => {
  const [port, emulatorPort] = [await freePort(), await freePort()];
  graphql = `http://127.0.0.1:${port}/graphql`;
  emulator = `http://127.0.0.1:${emulatorPort}`;
  child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      ...process.env,
      PORT: String(port),
      WECOM_EMULATOR_PORT: String(emulatorPort),
      LOG_LEVEL: 'silent',
      CACHE_WARM_UP: 'false',
      WECOM_CORP_ID: '',
      WECOM_CONTACT_SECRET: '',
      WECOM_APP_SECRET: '',
      WECOM_AGENT_ID: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('change callbacks')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the service exited (${code}):\n${output}`)));
  });
  expect(output).toContain(`change callbacks ${graphql.replace('/graphql', '/wecom/callback')}`);
});

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

// biome-ignore lint/suspicious/noExplicitAny: each test asserts the shape of the query it sent
type Answer = { data?: any; errors?: unknown };

const query = async (q: string): Promise<Answer> => {
  const res = await fetch(graphql, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
  return (await res.json()) as Answer;
};

describe('embedded mode', () => {
  it('delivers a console change to a subscriber and to the next query, with no set-up', async () => {
    const sub = await SseSubscription.open(
      (url, init) => fetch(url, init),
      graphql,
      'subscription { contactChanged(types: [DEPARTMENT_UPDATED]) { kind source departmentId changedFields } }',
    );
    try {
      const tree = await query('{ department(id: 1) { children { departmentId name } } }');
      const [first] = tree.data.department.children as { departmentId: number; name: string }[];
      // the repeat is answered from the cache
      await fetch(`${emulator}/__emulator/stats/reset`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      expect(await query('{ department(id: 1) { children { departmentId name } } }')).toEqual(tree);
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
      const after = await query('{ department(id: 1) { children { departmentId name } } }');
      expect(after.data.department.children[0]).toEqual({ departmentId: first!.departmentId, name: '嵌入式改名' });
    } finally {
      sub.close();
    }
  });
});
