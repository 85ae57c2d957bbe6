import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * `npm ci` refuses a lock file that lacks an optional dependency of any platform (EUSAGE "Missing:
 * @rollup/rollup-android-arm-eabi … from lock file"): a lock written by `npm install` on one
 * machine can hold only that machine's platform packages. Every optional dependency of every
 * locked package must be locked too, whatever platform it is for.
 */

interface LockedPackage {
  version?: string;
  optionalDependencies?: Record<string, string>;
  link?: boolean;
}

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockedPackage>;
};

/** Where npm would find `name` from the package at `path`: its own node_modules, then each ancestor's. */
function resolves(path: string, name: string): boolean {
  let dir = path;
  for (;;) {
    if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('is a v3 lock with the workspace packages linked', () => {
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages['node_modules/wecom-emulator']?.link).toBe(true);
    expect(lock.packages['node_modules/wecom-protocol']?.link).toBe(true);
  });

  it('locks the optional dependencies of every platform (so npm ci works on any machine)', () => {
    const missing = Object.entries(lock.packages).flatMap(([path, pkg]) =>
      Object.keys(pkg.optionalDependencies ?? {})
        .filter((name) => !resolves(path, name))
        .map((name) => `${name} (optional dependency of ${path || 'the root'})`),
    );
    expect(missing).toEqual([]);
  });
});
