import { GraphQLError, Kind, TypeInfo, getNamedType, getOperationAST, visit, visitWithTypeInfo, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Identity } from '../auth/identity.ts';
import { SCOPE_NAMES } from '../auth/scopes.ts';

/**
 * A mutation's payload (the `data` of its Success type: members, departments, tags …) is
 * directory data: reading it needs `directory:read`, like a query. A key with only
 * `directory:write` may learn whether its write succeeded (`__typename`, the typed errors' fields)
 * but not read the directory through what a write returns. The operation is refused before it
 * runs, so the write does not happen either: the caller asked for something it may not have.
 */
function payloadField(args: ExecutionArgs): string | undefined {
  const typeInfo = new TypeInfo(args.schema);
  let found: string | undefined;
  visit(
    args.document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (found) return false;
        const parent = typeInfo.getParentType();
        if (!parent || node.name.value !== 'data' || !parent.name.endsWith('Success')) return undefined;
        // Only __typename below it: whether there is a payload, not what it holds.
        const reads = node.selectionSet?.selections.some((s) => s.kind !== Kind.FIELD || s.name.value !== '__typename') ?? false;
        if (reads || getNamedType(typeInfo.getType()) === undefined) found = `${parent.name}.data`;
        return false;
      },
    }),
  );
  return found;
}

export function usePayloadScope(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const identity = (args.contextValue as { identity?: Identity }).identity;
      if (!identity || identity.scopes.read) return;
      if (getOperationAST(args.document, args.operationName ?? undefined)?.operation !== 'mutation') return;
      const field = payloadField(args);
      if (!field) return;
      setResultAndStopExecution({
        errors: [
          new GraphQLError(
            `Forbidden: ${field} needs scope ${SCOPE_NAMES.read} (a mutation's payload is directory data; ask for __typename to learn the outcome)`,
            {
              extensions: { code: 'FORBIDDEN', needs: [SCOPE_NAMES.read] },
            },
          ),
        ],
      });
    },
  };
}
