import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_VARIABLES } from '../src/config.ts';
import { SECURITY_VARIABLES } from '../src/security/config.ts';
import { OPS_VARIABLES } from '../src/ops/config.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each([...CORE_VARIABLES, ...SECURITY_VARIABLES, ...OPS_VARIABLES])('lists %s in the configuration table', (name) => {
    expect(readme).toContain(`| \`${name}\` |`);
  });

  it('shows the two set-up commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
  });
});
