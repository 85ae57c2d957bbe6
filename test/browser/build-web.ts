import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: builds the org explorer (npm run build:web) when web/dist is missing or
 * older than its sources, so `npm test` works from a fresh clone and never tests a stale build.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const web = join(root, 'web');
const builtPage = join(web, 'dist', 'index.html');

/** Newest change below a path; web/src/generated/ is left out (codegen rewrites it on every typecheck, from the sources checked here). */
function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  if (path.endsWith(join('src', 'generated'))) return 0;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

export default function setup(): void {
  const sources = [
    join(web, 'src'),
    join(web, 'index.html'),
    join(web, 'vite.config.ts'),
    join(root, 'schema.graphql'),
    join(root, 'codegen.ts'),
  ];
  if (existsSync(builtPage) && statSync(builtPage).mtimeMs >= Math.max(...sources.map(newestMtime))) return;
  execFileSync('npm', ['run', '-s', 'build:web'], { cwd: root, stdio: 'inherit' });
}
