import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { CSRF_HEADERS, useOriginGuard } from './cors.ts';
import { usePersistedOperationsOnly } from './persisted.ts';
import { useArmor, useCharacterLimit, useNoIntrospection, useOperationLimits, type EstimateSources } from './query-limits.ts';
import { useExecutionLimits } from './execution-limits.ts';
import { usePayloadScope } from './payload-scope.ts';
import { useSubscriptionCap } from './subscription-cap.ts';
import { requestGuard } from './request-guard.ts';
import type { SecuritySettings } from './settings.ts';

export { CSRF_HEADERS };

/**
 * The service's Yoga plugins in the order they must act: the browser origin, size, caller and budget first (before
 * anything is parsed), CSRF, persisted operations and the query text's length next, then the
 * parse/validate limits, then list bounds, cost and upstream calls, the mutation budget, and the
 * limits of the execution itself (time, answer size, the caller's share of WeCom's budget).
 */
export function useSecurity(
  settings: SecuritySettings,
  options: { logger: Logger; graphiql: boolean; estimate?: EstimateSources },
): Plugin[] {
  const guard = requestGuard({
    auth: settings.auth,
    http: settings.http,
    rateLimit: settings.rateLimit,
    callerBudgets: settings.callerBudgets,
    logger: options.logger,
    graphiql: options.graphiql,
  });
  return [
    useOriginGuard(settings.cors),
    guard.request,
    ...(settings.csrf ? [useCSRFPrevention({ requestHeaders: CSRF_HEADERS }) as Plugin] : []),
    ...(settings.persistedOperations ? [usePersistedOperationsOnly(settings.persistedOperations)] : []),
    useCharacterLimit(settings.limits),
    useArmor(settings.limits),
    ...(settings.introspection ? [] : [useNoIntrospection()]),
    useOperationLimits(settings.limits, options.estimate),
    usePayloadScope(),
    guard.mutations,
    useExecutionLimits(settings.limits, { logger: options.logger }),
    useSubscriptionCap(settings.limits.maxSubscriptionsPerCaller),
  ];
}
