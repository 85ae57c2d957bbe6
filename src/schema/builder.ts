import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import RelayPlugin from '@pothos/plugin-relay';
import ErrorsPlugin from '@pothos/plugin-errors';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DirectivePlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import { forbiddenError } from '../auth/forbidden.ts';
import { DEFAULT_COMPLEXITY, LIST_MULTIPLIER, fieldCost } from '../security/cost.ts';
import { ERRORS_DOCS, RELAY_DOCS } from './plugin-docs.ts';
import type { GraphQLContext } from './context.ts';
import type { Scopes } from './context.ts';

/**
 * What Yoga hands a resolver for a file of a GraphQL multipart request (the upload spec Yoga
 * implements natively): a web `File`. Only the parts the service uses are named here.
 */
export interface UploadedFile {
  readonly name: string;
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * The Pothos builder: plugins and scalars only. Types live one per file beside it and are
 * pulled together by schema/index.ts (Pothos' app layout).
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  AuthScopes: Scopes;
  /** A field listing several scopes needs all of them (e.g. directory:admin and the whole corp). */
  DefaultAuthStrategy: 'all';
  DefaultFieldNullability: false;
  /** Every connection carries the total across its pages, computed only when asked for. */
  Connection: { totalCount: number | (() => Promise<number>) };
  Scalars: {
    ID: { Input: string; Output: string };
    /** WeCom `order`: an unsigned 32-bit integer, which GraphQL's Int (signed) cannot hold. */
    WeComOrder: { Input: number; Output: number };
    /** An uploaded file (GraphQL multipart request spec, handled by Yoga); input only. */
    File: { Input: UploadedFile; Output: never };
  };
}>({
  // Relay before scope-auth so that auth checks see decoded global ids (Pothos docs). Federation
  // last, after the plugins that wrap resolvers (its docs); directives puts its @key on the types'
  // AST, which is where the subgraph printer reads them (src/schema/federation.ts).
  plugins: [RelayPlugin, ScopeAuthPlugin, ErrorsPlugin, SimpleObjectsPlugin, ComplexityPlugin, DirectivePlugin, FederationPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ctx.scopes,
    defaultStrategy: 'all',
    // FORBIDDEN naming the field and the scope it needs (src/auth/forbidden.ts).
    unauthorizedError: (_parent, _ctx, info, result) => forbiddenError(info, result.failure),
  },
  // Query cost, checked before execution (src/security/cost.ts): list multipliers from `first`
  // and from the length of id lists; the limit itself is applied per request by the server.
  complexity: {
    defaultComplexity: DEFAULT_COMPLEXITY,
    defaultListMultiplier: LIST_MULTIPLIER,
    fieldComplexity: fieldCost,
  },
  // Descriptions of the generated Relay and errors-plugin types (plugin-docs.ts); the `nodes`
  // field on every connection stays on through RELAY_DOCS.nodesOnConnection (an options object).
  relay: {
    ...RELAY_DOCS,
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  errors: {
    ...ERRORS_DOCS,
    defaultTypes: [],
  },
});
