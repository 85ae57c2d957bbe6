import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { requestCaller } from './request-guard.ts';

/**
 * Open subscriptions per caller (MAX_SUBSCRIPTIONS_PER_CALLER): each one holds a connection and a
 * listener on the change bus for as long as it lasts, so one key must not open them by the
 * hundred. A subscription counts from the moment it is accepted until its stream ends (the
 * client disconnects, or it completes).
 */
export function useSubscriptionCap(limit: number): Plugin {
  const open = new Map<string, number>();
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const caller = requestCaller((args.contextValue as { request?: Request }).request);
      const count = open.get(caller) ?? 0;
      if (count >= limit) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(`This caller has ${count} subscriptions open; at most ${limit} are allowed (close one first)`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit, http: { status: 429 } },
            }),
          ],
        });
        return undefined;
      }
      open.set(caller, count + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const left = (open.get(caller) ?? 1) - 1;
        if (left <= 0) open.delete(caller);
        else open.set(caller, left);
      };
      return {
        onSubscribeResult({ result }) {
          if (typeof (result as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== 'function') {
            release();
            return undefined;
          }
          return { onEnd: release };
        },
        onSubscribeError: release,
      };
    },
  };
}
