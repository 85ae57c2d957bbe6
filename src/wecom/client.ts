/**
 * The typed WeCom client: the resource groups over one WeComCore (core.ts), which runs each call
 * through the scheduler with the right token and applies the retry rules (retry-policy.ts).
 */
import { WeComCore, type WeComCoreOptions } from './core.ts';
import { usersApi } from './users.ts';
import { departmentsApi } from './departments.ts';
import { tagsApi } from './tags.ts';
import { batchApi } from './batch.ts';
import { exportApi } from './export.ts';
import { linkedCorpApi } from './linked-corp.ts';
import { mediaApi } from './media.ts';
import { corpApi } from './corp.ts';
import { agentApi } from './agent.ts';

export {
  DEFAULT_BASE_URL,
  DEFAULT_DEADLINE_MS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  WeComCore,
  type WeComCoreOptions,
  type WeComLogger,
  type WeComSecrets,
} from './core.ts';
export { MAX_CONCURRENCY_RETRIES, MAX_RATE_LIMIT_RETRIES, MAX_TRANSIENT_RETRIES } from './retry-policy.ts';

export interface WeComClientOptions extends WeComCoreOptions {}

/**
 * The typed WeCom client: one group per resource, camelCase here and WeCom's names on the wire.
 * `close()` ends the Pool the client created (an injected dispatcher is left to its owner).
 */
export function createWeComClient(options: WeComClientOptions) {
  const core = new WeComCore(options);
  const invoke = core.invoke;
  return {
    users: usersApi(invoke),
    departments: departmentsApi(invoke),
    tags: tagsApi(invoke),
    batch: batchApi(invoke),
    export: exportApi(invoke, core),
    linkedCorp: linkedCorpApi(invoke),
    media: mediaApi(invoke),
    corp: corpApi(invoke),
    agent: agentApi(invoke),
    /** Runs any endpoint descriptor (for endpoints added before they get a method). */
    call: invoke,
    /** Counters per endpoint and errcode, retries, token refreshes, queue depths and current caps. */
    stats: () => core.stats(),
    core,
    close: () => core.close(),
  };
}

export type WeComClient = ReturnType<typeof createWeComClient>;
