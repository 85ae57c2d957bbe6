import { test } from 'vitest';
import { OpsService } from '../helpers/ops-service.ts';
import { ServiceProcess } from '../helpers/service-process.ts';

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

export type StartProcess = (env: Record<string, string>) => Promise<ServiceProcess>;

/**
 * `startProcess(env)`: the real process (src/main.ts) with `env`, stopped when the test ends
 * (a test that already made it exit leaves nothing to stop).
 */
export const processTest = test.extend(
  'startProcess',
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter, which must be a destructuring pattern
  async ({}, { onCleanup }): Promise<StartProcess> => {
    const started: ServiceProcess[] = [];
    onCleanup(async () => {
      await Promise.all(started.map((service) => service.stop(2_000)));
    });
    return async (env) => {
      const service = await ServiceProcess.start(env);
      started.push(service);
      return service;
    };
  },
);
