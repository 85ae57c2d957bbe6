import { test } from 'vitest';
import { type EmulatorHarness, emulatorFixture } from '../src/testing.ts';
import type { EmulatorOptions } from '../src/options.ts';
import type { ChangeEvent } from '../src/routes/types.ts';

export interface EmulatorTestOptions {
  /** Reseed before every test (default); false for files whose tests only read the seeded corp. */
  reset?: boolean;
  /** Runs before every test, after the reseed (e.g. tokens fetched before faults are set). */
  beforeEach?: (wecom: EmulatorHarness) => Promise<unknown>;
}

/**
 * The emulator's own tests: `wecom`, one emulator per file (starting one per test would cost far
 * more than the tests themselves), reseeded before every test so that no test sees another's
 * writes; and `events`, the change events (batches) the emulator emitted during the test, which
 * is what its callbacks deliver.
 */
export function emulatorTest(options: Partial<EmulatorOptions> = {}, perTest: EmulatorTestOptions = {}) {
  return test
    .extend('wecom', { scope: 'file' }, emulatorFixture(options))
    .extend('freshEmulator', { auto: true }, async ({ wecom }) => {
      if (perTest.reset !== false) await wecom.reset();
      await perTest.beforeEach?.(wecom);
    })
    .extend('events', async ({ wecom }, { onCleanup }) => {
      const events: ChangeEvent[][] = [];
      const sink = (batch: ChangeEvent[]) => void events.push(batch);
      wecom.emulator.changeSinks.push(sink);
      onCleanup(() => {
        wecom.emulator.changeSinks = wecom.emulator.changeSinks.filter((s) => s !== sink);
      });
      return events;
    });
}

/**
 * The large seeded corp (50,400 members), for the tests of WeCom's size limits: one per file and
 * not reseeded between tests (a reseed costs seconds), so a file gives it one test that writes.
 */
export const largeCorpTest = () => emulatorTest({ size: 'large' }, { reset: false });
