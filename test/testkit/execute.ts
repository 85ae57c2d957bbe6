import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { GraphQLResult, ServiceHarness } from '../helpers/service.ts';

/** A GraphQL answer typed by the document that asked for it. */
export interface TypedResult<TData> {
  data?: TData | null;
  errors?: GraphQLResult['errors'];
}

/** Variables are required exactly when the operation declares a required one. */
type VariablesArgs<TVariables> =
  Record<string, never> extends TVariables
    ? [variables?: TVariables, headers?: Record<string, string>]
    : [variables: TVariables, headers?: Record<string, string>];

export type Execute = <TData, TVariables>(
  document: TypedDocumentNode<TData, TVariables>,
  ...args: VariablesArgs<TVariables>
) => Promise<TypedResult<TData>>;

/**
 * Sends a typed document (a `graphql(...)` call, generated into test/generated/ by
 * `npm run codegen`) to the service as `service.query` sends a string: over Yoga's fetch
 * (ServiceHarness) or over HTTP (a ServiceProcess). `headers` go with every request (a caller's
 * credential), beside those of the call.
 */
export function executor(service: Pick<ServiceHarness, 'query'>, headers: Record<string, string> = {}): Execute {
  return async (document, ...[variables, more]) => {
    const result = await service.query(print(document), variables as Record<string, unknown> | undefined, { ...headers, ...more });
    // The service answers the shape of the document it was sent, which is what the document's type says.
    return result as TypedResult<never>;
  };
}
