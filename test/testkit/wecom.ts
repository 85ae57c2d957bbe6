import { test } from 'vitest';
import { emulatorFixture } from 'wecom-emulator/testing';
import type { EmulatorOptions } from 'wecom-emulator';
import { LeakWatch, makeClient, type ClientSetup } from '../wecom/helpers.ts';

/**
 * Fixtures for the WeCom client's tests (test/wecom/): one emulator, one leak watch and one
 * client per file (starting them per test would cost seconds and prove nothing more), with the
 * emulator reseeded and its faults cleared before every test, so no test sees another's writes.
 */
export interface WeComTestOptions {
  emulator?: Partial<EmulatorOptions>;
  client?: ClientSetup;
}

/**
 * `emulator`, `watch` (every log line, error and token of the file's clients, scanned by the
 * file's last test) and `client` (contacts secret and the directory app, through the watch).
 */
export function wecomTest(options: WeComTestOptions = {}) {
  return (
    test
      .extend('emulator', { scope: 'file' }, emulatorFixture(options.emulator))
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
      .extend('watch', { scope: 'file' }, async ({}, { onCleanup }) => {
        const watch = new LeakWatch();
        onCleanup(() => watch.close());
        return watch;
      })
      .extend('client', { scope: 'file' }, async ({ emulator, watch }, { onCleanup }) => {
        const client = makeClient(emulator, watch, options.client);
        onCleanup(() => client.close());
        return client;
      })
      .extend('freshEmulator', { auto: true }, async ({ emulator }) => {
        await emulator.reset();
        await emulator.clearFaults();
      })
  );
}
