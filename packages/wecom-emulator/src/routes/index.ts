import type { Route } from './types.ts';
import { departmentRoutes } from './departments.ts';
import { tagRoutes } from './tags.ts';
import { corpRoutes } from './corp.ts';
import { mediaRoutes } from './media.ts';
import { userRoutes } from './users.ts';
import { batchRoutes } from './batch.ts';
import { exportRoutes } from './export.ts';
import { linkedCorpRoutes } from './linked-corp.ts';

/** Every WeCom endpoint the emulator serves (gettoken is handled by the server itself). */
export const routes: Route[] = [
  ...departmentRoutes,
  ...tagRoutes,
  ...corpRoutes,
  ...mediaRoutes,
  ...userRoutes,
  ...batchRoutes,
  ...exportRoutes,
  ...linkedCorpRoutes,
];
