import { test } from 'vitest';
import type { FixtureScope } from 'wecom-emulator/testing';
import { ServiceHarness } from '../helpers/service.ts';
import type { DirectoryChange } from '../../src/directory/changes.ts';
import { executor } from './execute.ts';

export type ServiceOptions = NonNullable<Parameters<typeof ServiceHarness.start>[0]>;

export interface ServiceTestOptions {
  /**
   * Zero the emulator's call counters before every test (default), so each test counts only its
   * own upstream calls; false where a file has always counted across its tests.
   */
  resetStats?: boolean;
  /** Runs before every test, before the stats reset (e.g. emptying the directory cache). */
  beforeEach?: (service: ServiceHarness) => Promise<void> | void;
  /** Runs once when the file's service has started (e.g. members a file's tests look for). */
  prepare?: (service: ServiceHarness) => Promise<void>;
}

export type StartService = (options?: ServiceOptions) => Promise<ServiceHarness>;

/**
 * The `startService` fixture: `startService(options)` starts a service of the test's own, closed
 * when the test ends. Also for fixture sets that add it beside a file's shared service.
 */
// biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
export const startServiceFixture = async ({}, { onCleanup }: FixtureScope): Promise<StartService> => {
  const started: ServiceHarness[] = [];
  onCleanup(async () => {
    await Promise.all(started.map((service) => service.close()));
  });
  return async (options = {}) => {
    const service = await ServiceHarness.start(options);
    started.push(service);
    return service;
  };
};

/**
 * `startService(options)`: a service of the test's own, closed when the test ends; for files whose
 * tests cannot share one (the client remembers rate-limit windows and per-endpoint state).
 */
export const ownServiceTest = test.extend('startService', startServiceFixture);

/**
 * Fixtures for the service's tests: one `service` per file (ServiceHarness: the app in-process
 * over a real emulator) started with `options`, its typed `execute`, and per test the changes it
 * `published` during that test; and `startService` (ownServiceTest) for a test that needs a service
 * of its own beside the file's (other settings, a fresh client).
 */
export function serviceTest(options: ServiceOptions = {}, perFile: ServiceTestOptions = {}) {
  return (
    ownServiceTest
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
      .extend('service', { scope: 'file' }, async ({}, { onCleanup }) => {
        const service = await ServiceHarness.start(options);
        onCleanup(() => service.close());
        await perFile.prepare?.(service);
        return service;
      })
      .extend('execute', { scope: 'file' }, async ({ service }) => executor(service))
      .extend('published', async ({ service }, { onCleanup }) => {
        const published: DirectoryChange[] = [];
        onCleanup(service.changes.subscribe((change) => published.push(change)));
        return published;
      })
      .extend('freshStats', { auto: true }, async ({ service }) => {
        await perFile.beforeEach?.(service);
        if (perFile.resetStats !== false) await service.wecom.resetStats();
      })
  );
}
