import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.ts';
import { printSubgraphSdl } from './federation.ts';

/** The schema as committed in schema.graphql: sorted, so that diffs show real changes only. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

/** The subgraph SDL as committed in schema.subgraph.graphql: the same graph with its federation directives (`@link`, `@key`). */
export function printSubgraphSchemaFile(): string {
  return printSubgraphSdl(schema);
}
