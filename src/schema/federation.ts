import { printSubgraphSchema } from '@apollo/subgraph';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { AuthScopeFailureType } from '@pothos/plugin-scope-auth';
import {
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLUnionType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { checkRepresentations, ENTITY_KINDS } from './entities.ts';
import { forbiddenError } from '../auth/forbidden.ts';

/**
 * The service as an Apollo Federation v2 subgraph (docs/supergraph.md). The served schema is the
 * plain graph plus the two fields a gateway needs, `_service { sdl }` and `_entities`, which are
 * always on: they are read paths with the rules of every other query (directory:read, the
 * caller's subtrees, PII behind directory:pii, the list and cost limits), so they show nothing a
 * caller could not read through `users`, `department` or `tag`, and a gateway needs no switch on
 * this side. The federation directives (`@key`, `@link`) appear only in the subgraph SDL
 * (schema.subgraph.graphql and `_service.sdl`), never in schema.graphql.
 */

/** The Federation version the subgraph SDL links (v2.6: what Hive Gateway, Apollo Router and Cosmo read). */
export const FEDERATION_LINK = 'https://specs.apollo.dev/federation/v2.6';

const DESCRIPTIONS = {
  _Any: 'An entity representation a gateway sends to `_entities`: `__typename` and the key fields, e.g. `{"__typename": "User", "userid": "zhangsan"}` (Apollo Federation).',
  _Entity:
    'Every type another subgraph may refer to by its key (Apollo Federation): User (userid), Department (departmentId), Tag (tagId), LinkedCorp (linkedId), LinkedUser (userid), LinkedDepartment (departmentId).',
  _Service: "This subgraph's description for a federated gateway (Apollo Federation).",
  _service:
    'The subgraph SDL with its federation directives, for gateways that compose at run time (schema.subgraph.graphql holds the same). Needs `directory:read`.',
  _entities:
    'Entities by their keys, for a federated gateway (Apollo Federation), in the order asked: null for each one that does not exist or that this credential may not see, exactly as through `users`, `department` and `tag`. ' +
    'Resolved through the same per-request loaders, so a batch costs what the equivalent `users(userids:)` costs. Needs `directory:read`.',
  representations:
    'Each entity asked for: `__typename` and its key (User `userid`, Department `departmentId`, Tag `tagId`, LinkedCorp `linkedId`, LinkedUser `userid`, LinkedDepartment `departmentId`). BAD_USER_INPUT when one is not such a representation.',
} as const;

/** `_service` and `_entities` are root fields like the others: FORBIDDEN without directory:read. */
function requireRead(ctx: GraphQLContext, info: GraphQLResolveInfo): void {
  if (!ctx.scopes.read) throw forbiddenError(info, { kind: AuthScopeFailureType.AuthScope, scope: 'read', parameter: true, error: null });
}

type Resolver = GraphQLFieldResolver<unknown, GraphQLContext, Record<string, unknown>>;

function guardedEntities(field: GraphQLFieldConfig<unknown, GraphQLContext>): GraphQLFieldConfig<unknown, GraphQLContext> {
  const resolve = field.resolve as Resolver;
  const representations = field.args?.representations;
  if (!representations) throw new Error('federation: _entities has no representations argument');
  return {
    ...field,
    description: DESCRIPTIONS._entities,
    args: { representations: { ...representations, description: DESCRIPTIONS.representations } },
    // What is selected under the entities costs once per representation, as under users(userids:)
    // (src/security/cost.ts); the list bound (MAX_LIST_ITEMS) caps how many one request may send.
    extensions: {
      ...field.extensions,
      complexity: (args: { representations?: unknown[] }) => ({
        field: 1,
        multiplier: Array.isArray(args.representations) ? args.representations.length : 1,
      }),
    },
    resolve: (root, args, ctx, info) => {
      requireRead(ctx, info);
      checkRepresentations(args.representations as unknown[]);
      return resolve(root, args, ctx, info);
    },
  };
}

/**
 * The served schema: the Pothos graph as a subgraph (`toSubGraphSchema` adds `_service` and
 * `_entities`), its federation fields guarded and documented like the rest of the graph.
 */
export function toSubgraphSchema(): GraphQLSchema {
  const built = builder.toSubGraphSchema({ linkUrl: FEDERATION_LINK, federationDirectives: ['@key', '@shareable'], sortSchema: true });
  let sdl: string | undefined;
  const schema: GraphQLSchema = mapSchema(built, {
    [MapperKind.SCALAR_TYPE]: (type) =>
      type.name === '_Any' ? new GraphQLScalarType({ ...type.toConfig(), description: DESCRIPTIONS._Any }) : type,
    [MapperKind.UNION_TYPE]: (type) =>
      type.name === '_Entity' ? new GraphQLUnionType({ ...type.toConfig(), description: DESCRIPTIONS._Entity }) : type,
    [MapperKind.OBJECT_TYPE]: (type) =>
      type.name === '_Service' ? new GraphQLObjectType({ ...type.toConfig(), description: DESCRIPTIONS._Service }) : type,
    [MapperKind.QUERY_ROOT_FIELD]: (field, name) => {
      if (name === '_entities') return guardedEntities(field as GraphQLFieldConfig<unknown, GraphQLContext>);
      if (name !== '_service') return field;
      return {
        ...field,
        description: DESCRIPTIONS._service,
        resolve: (_root: unknown, _args: unknown, ctx: GraphQLContext, info: GraphQLResolveInfo) => {
          requireRead(ctx, info);
          return { sdl: (sdl ??= printSubgraphSdl(schema)) };
        },
      };
    },
  });
  const entityTypes = (schema.getType('_Entity') as GraphQLUnionType | undefined)?.getTypes().map((t) => t.name) ?? [];
  const expected = ENTITY_KINDS.map((k) => k.typename);
  if (entityTypes.sort().join() !== [...expected].sort().join()) {
    throw new Error(`federation: _Entity holds ${entityTypes.join(', ')}, entities.ts declares ${expected.join(', ')}`);
  }
  return schema;
}

/** The subgraph SDL (federation directives included), as `_service.sdl` gives it and schema.subgraph.graphql holds it. */
export function printSubgraphSdl(schema: GraphQLSchema): string {
  return `${printSubgraphSchema(schema).trimEnd()}\n`;
}
