import type { Route } from './types.ts';
import { departmentRoutes } from './departments.ts';

/** Every WeCom endpoint the emulator serves (gettoken is handled by the server itself). */
export const routes: Route[] = [...departmentRoutes];
