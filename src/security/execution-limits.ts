import { GraphQLError, getOperationAST, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { stringifySliced } from '../ops/sliced-json.ts';
import type { Logger } from 'pino';
import { newUpstreamRequest, upstreamRequests, type UpstreamRequest } from '../wecom/request-context.ts';
import { estimateOf } from './query-limits.ts';
import { requestCaller } from './request-guard.ts';
import type { QueryLimits } from './settings.ts';

/**
 * What one request may do while it runs, and what it did:
 * - its WeCom calls are made on behalf of its caller (the scheduler gives each caller a share of
 *   each endpoint's budget) and counted;
 * - a query may execute for MAX_EXECUTION_MS: then it is answered with EXECUTION_TIMEOUT, and
 *   whatever of it still runs makes no more WeCom calls (mutations are not cut off: a write half
 *   done is worse than a slow one);
 * - an answer may hold MAX_RESPONSE_BYTES of JSON: a larger one is replaced by RESPONSE_TOO_LARGE;
 * - one summary line is logged per request that made WeCom calls (warn when some failed), instead
 *   of one line per failed call.
 */

/** Below this estimated cost an answer cannot reach the byte limit (fields average far below 1 KB), so it is not measured. */
const BYTES_PER_FIELD_BOUND = 1_024;

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isAsyncIterable(value: unknown): boolean {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}

export function useExecutionLimits(limits: QueryLimits, options: { logger: Logger }): Plugin {
  const { logger } = options;
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const context = args.contextValue as { request?: Request };
      const request = newUpstreamRequest(requestCaller(context.request));
      const query = getOperationAST(args.document, args.operationName ?? undefined)?.operation === 'query';
      const started = performance.now();
      setExecuteFn((execArgs) =>
        upstreamRequests.run(request, () => {
          const result = executeFn(execArgs);
          return query && isPromise(result) ? withTimeLimit(result, limits.maxExecutionMs, request) : result;
        }),
      );
      return {
        async onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const single = result as ExecutionResult;
          const estimate = estimateOf(context);
          if (!estimate || estimate.cost * BYTES_PER_FIELD_BOUND > limits.maxResponseBytes) {
            // Possibly big: serialized in slices, so other requests are served meanwhile.
            const json = await stringifySliced(single);
            const bytes = Buffer.byteLength(json);
            // Serialized once: Yoga (and the response cache, which asks this stringify) send this text.
            const stringify = (sent: ExecutionResult) =>
              sent.data === single.data && sent.extensions === single.extensions ? json : JSON.stringify(sent);
            setResult({ ...single, stringify } as ExecutionResult);
            if (bytes > limits.maxResponseBytes) {
              setResult({
                errors: [
                  new GraphQLError(
                    `The answer has ${bytes} bytes; at most ${limits.maxResponseBytes} are sent (ask for smaller pages with first, or fewer fields)`,
                    {
                      extensions: { code: 'RESPONSE_TOO_LARGE', bytes, limit: limits.maxResponseBytes },
                    },
                  ),
                ],
              });
            }
          }
          summarise(logger, request, { operation: args.operationName ?? undefined, estimate, ms: Math.round(performance.now() - started) });
        },
      };
    },
  };
}

function withTimeLimit<T>(result: Promise<T>, ms: number, request: UpstreamRequest): Promise<T | ExecutionResult> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<ExecutionResult>((resolve) => {
    timer = setTimeout(() => {
      request.ended = `the request's time limit of ${ms} ms passed`;
      resolve({
        errors: [
          new GraphQLError(`The query ran longer than ${ms} ms and was stopped (ask for less, or retry when the directory cache is warm)`, {
            extensions: { code: 'EXECUTION_TIMEOUT', limit: ms },
          }),
        ],
      });
    }, ms);
    timer.unref?.();
  });
  return Promise.race([result, limit]).finally(() => clearTimeout(timer));
}

function summarise(
  logger: Logger,
  request: UpstreamRequest,
  extra: { operation: string | undefined; estimate: ReturnType<typeof estimateOf>; ms: number },
): void {
  const calls = Object.values(request.calls).reduce((a, b) => a + b, 0);
  if (calls === 0) return;
  const failed = Object.values(request.failures).reduce((a, b) => a + b, 0);
  const line = {
    caller: request.caller,
    ...(extra.operation ? { operation: extra.operation } : {}),
    ...(extra.estimate ? { estimatedCost: extra.estimate.cost, estimatedCalls: extra.estimate.upstreamCalls } : {}),
    upstreamCalls: calls,
    calls: request.calls,
    ...(failed ? { failedCalls: failed, failures: request.failures } : {}),
    durationMs: extra.ms,
  };
  if (failed) logger.warn(line, 'request summary: some WeCom calls failed');
  else logger.debug(line, 'request summary');
}
