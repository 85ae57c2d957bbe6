import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { createComplexityRule } from '@pothos/plugin-complexity';
import { GraphQLError, NoSchemaIntrospectionCustomRule, getOperationAST, validate, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { checkListArguments } from './list-bounds.ts';
import type { QueryLimits } from './settings.ts';

/**
 * Limits on what an operation may ask for, all checked before it runs, so a hostile query costs
 * parsing and validation and nothing upstream:
 * - characters of the query text (before parsing);
 * - tokens (GraphQL Armor's parser stops counting past the limit);
 * - depth, aliases, directives (GraphQL Armor validation rules), field suggestions hidden;
 * - every list argument bounded (list-bounds.ts);
 * - estimated cost (Pothos complexity with list multipliers from `first` and id lists, cost.ts).
 * Each refusal carries an `extensions.code` naming the limit.
 */

const reject =
  (code: string, what: string, limit: number): GraphQLArmorRejectCallback =>
  (ctx, error) => {
    const found = /found (\d+)/.exec(error.message)?.[1];
    const report = new GraphQLError(`${what} exceeds the limit of ${limit}${found ? ` (found ${found})` : ''}`, { extensions: { code, limit } });
    if (ctx) ctx.reportError(report);
  };

/** GraphQL Armor: depth, aliases, directives and tokens, and no "Did you mean …?" suggestions. */
export function armorPlugin(limits: QueryLimits): Plugin {
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, flattenFragments: true, propagateOnRejection: false, onReject: [reject('QUERY_TOO_DEEP', 'Query depth', limits.maxDepth)] },
    maxAliases: { n: limits.maxAliases, propagateOnRejection: false, onReject: [reject('TOO_MANY_ALIASES', 'Aliases', limits.maxAliases)] },
    maxDirectives: { n: limits.maxDirectives, propagateOnRejection: false, onReject: [reject('TOO_MANY_DIRECTIVES', 'Directives', limits.maxDirectives)] },
    // The token count is checked while parsing, where there is no validation context to report to: the parser throws.
    maxTokens: { n: limits.maxTokens },
    // Cost is Pothos' (it reads `first` and list lengths); Armor's own cost rule is off.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  }) as Plugin;
}

/** The query text's length, before it is parsed. */
export function characterLimitPlugin(limits: QueryLimits): Plugin {
  return {
    onParams({ params }) {
      if (typeof params.query === 'string' && params.query.length > limits.maxCharacters) {
        throw new GraphQLError(`The query has ${params.query.length} characters; at most ${limits.maxCharacters} are accepted`, {
          extensions: { code: 'QUERY_TOO_LONG', limit: limits.maxCharacters, http: { status: 413 } },
        });
      }
    },
  };
}

/** __schema and __type refused (introspection off); __typename stays. */
export function noIntrospectionPlugin(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** List bounds and cost, on the operation about to run (queries, mutations and subscriptions alike). */
export function operationLimitsPlugin(limits: QueryLimits): Plugin {
  const check = (args: ExecutionArgs): GraphQLError | undefined => {
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const tooLong = checkListArguments(args.schema, args.document, variables, limits.maxListItems);
    if (tooLong) return tooLong;
    let costError: GraphQLError | undefined;
    const errors = validate(args.schema, args.document, [
      createComplexityRule({
        context: args.contextValue as object,
        variableValues: variables,
        operationName: args.operationName ?? getOperationAST(args.document)?.name?.value ?? null,
        validate: (result, report) => {
          if (result.complexity > limits.maxCost) {
            report(
              (costError = new GraphQLError(`The query's estimated cost is ${result.complexity}; at most ${limits.maxCost} is accepted (ask for smaller pages with first, or fewer nested lists)`, {
                extensions: { code: 'QUERY_TOO_COSTLY', cost: result.complexity, limit: limits.maxCost },
              })),
            );
          }
        },
      }),
    ]);
    return costError ?? errors[0];
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
