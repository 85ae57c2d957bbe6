import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSortedSchema, printSubgraphSchemaFile } from './sdl.ts';

/**
 * `npm run schema`: writes the sorted SDL to schema.graphql and the federation subgraph SDL to
 * schema.subgraph.graphql (a test fails when either is stale).
 */
const files: [string, () => string][] = [
  ['../../schema.graphql', printSortedSchema],
  ['../../schema.subgraph.graphql', printSubgraphSchemaFile],
];
for (const [path, print] of files) {
  const target = fileURLToPath(new URL(path, import.meta.url));
  writeFileSync(target, print());
  console.log(`wrote ${target}`);
}
