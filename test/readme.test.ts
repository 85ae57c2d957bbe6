import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_VARIABLES } from '../src/config/index.ts';
import { SECURITY_VARIABLES } from '../src/config/security.ts';
import { OPS_VARIABLES } from '../src/config/ops.ts';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const configuration = read('docs/configuration.md');

/**
 * ENV_FILE is read before any schema validates the environment (it names the file that fills the
 * environment in), so no variable list holds it; the test below checks that it is still read.
 */
const READ_BEFORE_VALIDATION = ['ENV_FILE'];
const VARIABLES = [...CORE_VARIABLES, ...SECURITY_VARIABLES, ...OPS_VARIABLES, ...READ_BEFORE_VALIDATION];

/** The first cell of every table row that names a variable: `| \`NAME\` | default | meaning |`. */
function tableVariables(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
}

describe('README', () => {
  it('shows the two set-up commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
  });

  it('stays an entry page of at most 300 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
  });

  it('shows the org explorer screenshot', () => {
    expect(readme).toMatch(/!\[[^\]]+\]\(docs\/images\/explorer\.png\)/);
  });

  it('links to every reference page', () => {
    for (const page of ['architecture', 'configuration', 'security', 'operations', 'benchmark', 'emulator', 'wecom-api']) {
      expect(readme).toContain(`](docs/${page}.md)`);
    }
  });
});

describe('docs/configuration.md', () => {
  it.each(VARIABLES)('lists %s in the configuration table', (name) => {
    expect(configuration).toContain(`| \`${name}\` |`);
  });

  it('lists no variable the service does not read', () => {
    const rows = tableVariables(configuration);
    expect(rows.length).toBeGreaterThanOrEqual(VARIABLES.length);
    expect(rows.filter((name) => !VARIABLES.includes(name))).toEqual([]);
  });

  it('counts ENV_FILE only while src/config/env-file.ts reads it', () => {
    expect(read('src/config/env-file.ts')).toContain('env.ENV_FILE');
  });

  it('lists each variable once', () => {
    const rows = tableVariables(configuration);
    expect(rows.filter((name, i) => rows.indexOf(name) !== i)).toEqual([]);
  });
});
