import { serveProcess } from '../src/serve-process.ts';
import { naivePlanning } from './naive-planning.ts';

/**
 * The benchmark's naive baseline as a process: the service as src/main.ts runs it (the same
 * environment: WECOM_*, API_KEYS, PORT …), with its reads planned by bench/naive-planning.ts.
 */
serveProcess({ planning: naivePlanning });
