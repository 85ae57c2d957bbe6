import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError, NoSchemaIntrospectionCustomRule, getOperationAST, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { checkListArguments } from './list-bounds.ts';
import type { QueryLimits } from './settings.ts';
import type { CorpSizesCache, DirectoryPeek } from './corp-sizes.ts';
import { estimateOperation, readsMemberLists, type Estimate } from './estimate.ts';
import type { DirectoryLoadingGuard } from './directory-loading.ts';
import type { MemberMemo } from '../directory/member-memo.ts';
import type { GraphQLContext } from '../schema/context.ts';

/**
 * Limits on what an operation may ask for, all checked before it runs, so a hostile query costs
 * parsing and validation and nothing upstream:
 * - characters of the query text (before parsing);
 * - tokens (GraphQL Armor's parser stops counting past the limit);
 * - depth, aliases, directives (GraphQL Armor validation rules), field suggestions hidden;
 * - every list argument bounded (list-bounds.ts);
 * - estimated cost and upstream calls, from the corp's real sizes (estimate.ts).
 * Each refusal carries an `extensions.code` naming the limit.
 */

const reject =
  (code: string, what: string, limit: number): GraphQLArmorRejectCallback =>
  (ctx, error) => {
    const found = /found (\d+)/.exec(error.message)?.[1];
    const report = new GraphQLError(`${what} exceeds the limit of ${limit}${found ? ` (found ${found})` : ''}`, {
      extensions: { code, limit },
    });
    if (ctx) ctx.reportError(report);
  };

/** GraphQL Armor: depth, aliases, directives and tokens, and no "Did you mean …?" suggestions. */
export function useArmor(limits: QueryLimits): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: {
      n: limits.maxDepth,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: [reject('QUERY_TOO_DEEP', 'Query depth', limits.maxDepth)],
    },
    maxAliases: { n: limits.maxAliases, propagateOnRejection: false, onReject: [reject('TOO_MANY_ALIASES', 'Aliases', limits.maxAliases)] },
    maxDirectives: {
      n: limits.maxDirectives,
      propagateOnRejection: false,
      onReject: [reject('TOO_MANY_DIRECTIVES', 'Directives', limits.maxDirectives)],
    },
    // The token count is checked while parsing, where there is no validation context to report to: the parser throws.
    maxTokens: { n: limits.maxTokens },
    // Cost is Pothos' (it reads `first` and list lengths); Armor's own cost rule is off.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  }) as Plugin;
}

/**
 * Brackets nested deeper than this (`{`, `[`, `(`) are refused before parsing: GraphQL's parser
 * recurses once per level, and a few thousand levels of `[[[…` would overflow its stack before
 * the token limit is reached. Selections are limited to maxDepth anyway; 100 leaves room for
 * nested input values.
 */
export const MAX_QUERY_NESTING = 100;

/** The deepest bracket nesting of a GraphQL text, outside strings and comments. */
export function bracketNesting(query: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (c === '#') {
      while (i < query.length && query[i] !== '\n' && query[i] !== '\r') i++;
    } else if (c === '"') {
      if (query.startsWith('"""', i)) {
        const end = query.indexOf('"""', i + 3);
        i = end < 0 ? query.length : end + 2;
      } else {
        for (i++; i < query.length && query[i] !== '"' && query[i] !== '\n'; i++) if (query[i] === '\\') i++;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      if (++depth > max) max = depth;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
    }
  }
  return max;
}

/** How deep a JSON value nests (iteratively: a value 200,000 levels deep must not overflow the stack here). */
export function valueNesting(value: unknown, stopAt: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) max = depth + 1;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

/** The query text's length and bracket nesting, and the variables' nesting, before anything is parsed or coerced. */
export function useCharacterLimit(limits: QueryLimits): Plugin {
  return {
    onParams({ params }) {
      // GraphQL's coercion of variables recurses once per level: refuse deep values with a 400 first.
      if (params.variables && valueNesting(params.variables, MAX_QUERY_NESTING) > MAX_QUERY_NESTING) {
        throw new GraphQLError(`The variables nest more than ${MAX_QUERY_NESTING} levels deep`, {
          extensions: { code: 'VARIABLES_TOO_NESTED', limit: MAX_QUERY_NESTING, http: { status: 400 } },
        });
      }
      if (typeof params.query !== 'string') return;
      if (params.query.length > limits.maxCharacters) {
        throw new GraphQLError(`The query has ${params.query.length} characters; at most ${limits.maxCharacters} are accepted`, {
          extensions: { code: 'QUERY_TOO_LONG', limit: limits.maxCharacters, http: { status: 413 } },
        });
      }
      const nesting = bracketNesting(params.query);
      if (nesting > MAX_QUERY_NESTING) {
        throw new GraphQLError(`The query nests brackets ${nesting} levels deep; at most ${MAX_QUERY_NESTING} are accepted`, {
          extensions: { code: 'QUERY_TOO_NESTED', limit: MAX_QUERY_NESTING, http: { status: 400 } },
        });
      }
    },
  };
}

/** __schema and __type refused (introspection off); __typename stays. */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** What the estimate may consult: the corp's sizes and what the directory cache and the member memo already hold. */
export interface EstimateSources {
  sizes?: CorpSizesCache;
  /**
   * Reads the department tree into the directory cache when it is not there yet (the one
   * `department/list` any directory query makes anyway), so that even the first query after a
   * start is estimated from the corp's real tree rather than from guesses.
   */
  loadTree?: () => Promise<unknown>;
  peek?: DirectoryPeek;
  memo?: MemberMemo;
  /** Refuses a query whose member lists cannot be read before the deadline, and has them loaded (directory-loading.ts). */
  loading?: DirectoryLoadingGuard;
}

/** The estimate made for a request's operation (for its summary log line). */
const estimates = new WeakMap<object, Estimate>();
export function estimateOf(context: object): Estimate | undefined {
  return estimates.get(context);
}

const describeCalls = (calls: Record<string, number>) =>
  Object.entries(calls)
    .sort((a, b) => b[1] - a[1])
    .map(([endpoint, n]) => `${n} × ${endpoint}`)
    .join(', ');

/**
 * List bounds, cost and upstream calls, on the operation about to run (queries, mutations and
 * subscriptions alike): refused before execution, with the estimate in the error.
 */
export function useOperationLimits(limits: QueryLimits, sources: EstimateSources = {}): Plugin {
  const check = (args: ExecutionArgs): GraphQLError | undefined => {
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const tooLong = checkListArguments(args.schema, args.document, variables, limits.maxListItems);
    if (tooLong) return tooLong;
    const context = args.contextValue as Partial<GraphQLContext> | undefined;
    const { peek, memo } = sources;
    const estimate = estimateOperation({
      schema: args.schema,
      document: args.document,
      operationName: args.operationName,
      variables,
      sizes: sources.sizes?.current(),
      departmentRoots: context?.identity?.departmentRoots,
      memberKnown: (userid) => (peek ? peek.peekUser(userid) !== undefined : false) || (memo?.knownMissing(userid) ?? false),
      openIdKnown: (userid) => memo?.knowsOpenId(userid) ?? false,
    });
    if (context) estimates.set(context, estimate);
    if (estimate.cost > limits.maxCost) {
      return new GraphQLError(
        `The query's estimated cost is ${estimate.cost}; at most ${limits.maxCost} is accepted (ask for smaller pages with first, or fewer nested lists)`,
        {
          extensions: { code: 'QUERY_TOO_COSTLY', cost: estimate.cost, limit: limits.maxCost },
        },
      );
    }
    if (estimate.upstreamCalls > limits.maxUpstreamCalls) {
      return new GraphQLError(
        `The query may make ${estimate.upstreamCalls} WeCom calls (${describeCalls(estimate.calls)}); at most ${limits.maxUpstreamCalls} are accepted per request (ask for fewer members by id, or fewer openId fields)`,
        {
          extensions: {
            code: 'TOO_MANY_UPSTREAM_CALLS',
            upstreamCalls: estimate.upstreamCalls,
            calls: estimate.calls,
            limit: limits.maxUpstreamCalls,
          },
        },
      );
    }
    return undefined;
  };
  /**
   * Checks with what is known; when that refuses the operation only because the tree is not
   * cached yet (the guesses stand in for it), reads the tree and checks again. An operation the
   * guesses accept makes no read of its own, so upstream calls stay at the minimum.
   */
  const checkKnowingTree = async (args: ExecutionArgs): Promise<GraphQLError | undefined> => {
    const error = check(args);
    if (!error || error.extensions.code !== 'QUERY_TOO_COSTLY' || !sources.sizes || !sources.loadTree || sources.sizes.current())
      return error;
    // WeCom unreachable: the guesses stand, and the refusal with them.
    const loaded = await sources.loadTree().then(
      () => true,
      () => false,
    );
    return loaded ? check(args) : error;
  };
  /**
   * A query whose member lists cannot all be read before the deadline is refused (and they are
   * loaded meanwhile). Which lists it reads needs the tree: when it is not cached yet, it is read
   * first, as the query itself would read it at once, so this costs no upstream call of its own.
   */
  const checkLoading = async (args: ExecutionArgs): Promise<GraphQLError | undefined> => {
    const { loading, sizes } = sources;
    const context = args.contextValue as Partial<GraphQLContext> | undefined;
    const estimate = context && estimates.get(context);
    if (!loading || !sizes || !estimate || !readsMemberLists(estimate.memberLists)) return undefined;
    if (getOperationAST(args.document, args.operationName ?? undefined)?.operation !== 'query') return undefined;
    let known = sizes.current();
    let needs = estimate.memberLists;
    if (!known) {
      const loaded = await (sources.loadTree?.() ?? Promise.reject(new Error('no tree'))).then(
        () => true,
        () => false,
      );
      // WeCom unreachable: the query fails on its own, as it would have.
      if (!loaded) return undefined;
      // Estimated again from the tree: the limits above may refuse it now.
      const refused = check(args);
      if (refused) return refused;
      known = sizes.current();
      needs = estimates.get(context)?.memberLists ?? needs;
      if (!known) return undefined;
    }
    return loading.check(needs, known, context.identity?.departmentRoots);
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const error = (await checkKnowingTree(args)) ?? (await checkLoading(args));
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const error = await checkKnowingTree(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
