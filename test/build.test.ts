import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ServiceProcess } from './helpers/service-process.ts';

/**
 * Production runs what `npm run build` compiles (tsc to dist/, no tsx, no loader): the build must
 * succeed from the sources as they are, and the compiled service must serve the demo organisation
 * with its embedded emulator, which it loads from the compiled workspace package.
 */

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** tsc over the packages and the service: ~20 s alone, more beside other test files on two cores. */
const BUILD_TIMEOUT_MS = 240_000;

let service: ServiceProcess;
beforeAll(async () => {
  await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: REPO, timeout: BUILD_TIMEOUT_MS });
  service = await ServiceProcess.start({ WECOM_EMULATOR_PORT: String(await freePort()) }, 30_000, 'dist');
}, BUILD_TIMEOUT_MS + 30_000);
afterAll(() => service?.stop());

describe('npm run build', () => {
  it('writes the compiled service and packages with source maps', () => {
    for (const file of [
      'dist/main.js',
      'dist/main.js.map',
      'dist/web/favicon.svg',
      'web/dist/index.html',
      'packages/wecom-emulator/dist/cli.js',
      'packages/wecom-protocol/dist/crypto.js',
    ]) {
      expect(existsSync(`${REPO}/${file}`), file).toBe(true);
    }
  });

  it('serves the demo organisation from node dist/main.js', async () => {
    const res = await service.query('{ department(id: 1) { name memberCount(recursive: true) } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.department).toEqual({ name: '示例科技有限公司', memberCount: 400 });
  });

  it('serves the org explorer and its icon from the compiled service', async () => {
    for (const path of ['/', '/favicon.svg']) {
      const res = await fetch(`${service.url}${path}`);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
  });
});
