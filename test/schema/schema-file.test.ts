import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSortedSchema, printSubgraphSchemaFile } from '../../src/schema/sdl.ts';

describe('schema.graphql', () => {
  it('is the printed schema (run `npm run schema` after changing the graph)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSortedSchema());
  });
});

describe('schema.subgraph.graphql', () => {
  it('is the printed subgraph SDL (run `npm run schema` after changing the graph)', () => {
    const committed = readFileSync(new URL('../../schema.subgraph.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSubgraphSchemaFile());
  });
});
