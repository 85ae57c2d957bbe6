import { test } from 'vitest';
import { OpsService } from '../helpers/ops-service.ts';

/**
 * `service`: the service wired for operations (metrics, readiness, HTTP front, kept log lines) on
 * a socket, one per file; tests that need other settings start their own OpsService.
 */
export const opsTest = test.extend(
  'service',
  { scope: 'file' },
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
  async ({}, { onCleanup }) => {
    const service = await OpsService.start();
    onCleanup(() => service.close());
    return service;
  },
);
