import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_SDL, composeSupergraph } from './gateway.ts';
import { TICKETS_SDL } from './tickets-subgraph.ts';

/** Issue 18: the committed subgraph SDL composes into a supergraph (@theguild/federation-composition). */
describe('schema.subgraph.graphql', () => {
  it('composes on its own without errors', () => {
    const result = composeServices([{ name: 'directory', typeDefs: parse(DIRECTORY_SDL), url: 'http://directory/graphql' }]);
    expect(result.errors).toBeUndefined();
  });

  it('composes with a subgraph that refers to its entities, each keyed by its WeCom id', () => {
    const supergraph = composeSupergraph({ directory: 'http://directory/graphql', tickets: 'http://tickets/graphql' });
    const keys = [...supergraph.matchAll(/^type (\w+)[^{]*@join__type\(graph: DIRECTORY, key: "(\w+)"\)/gm)].map(
      ([, type, key]) => `${type}.${key}`,
    );
    expect(keys.sort()).toEqual([
      'Department.departmentId',
      'LinkedCorp.linkedId',
      'LinkedDepartment.departmentId',
      'LinkedUser.userid',
      'Tag.tagId',
      'User.userid',
    ]);
    // The tickets subgraph only points at members and departments; this service resolves them.
    expect(supergraph).toMatch(/type User\b[^{]*@join__type\(graph: TICKETS, key: "userid", resolvable: false\)/);
    expect(supergraph).toMatch(/type Department\b[^{]*@join__type\(graph: TICKETS, key: "departmentId", resolvable: false\)/);
  });

  it('links Federation v2 and keeps its directives out of the plain schema.graphql', () => {
    expect(DIRECTORY_SDL).toMatch(
      /^extend schema\s+@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+", import: \["@key", "@shareable"\]\)/,
    );
    const plain = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(plain).not.toMatch(/@key|@link/);
  });

  it("composes with another Relay subgraph's PageInfo (shareable in both)", () => {
    const relaySubgraph = /* GraphQL */ `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@shareable"])
      type Query { projects(first: Int, after: String): ProjectConnection! }
      type ProjectConnection { pageInfo: PageInfo! }
      type PageInfo @shareable { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
    `;
    const result = composeServices([
      { name: 'directory', typeDefs: parse(DIRECTORY_SDL), url: 'http://directory/graphql' },
      { name: 'projects', typeDefs: parse(relaySubgraph), url: 'http://projects/graphql' },
    ]);
    expect(result.errors).toBeUndefined();
  });
});

describe('a subgraph that does not compose', () => {
  it('is reported (the check above can fail)', () => {
    // Tickets claiming User.userid is an Int: composition must refuse it.
    const broken = TICKETS_SDL.replace('userid: String!', 'userid: Int!');
    const result = composeServices([
      { name: 'directory', typeDefs: parse(DIRECTORY_SDL), url: 'http://directory/graphql' },
      { name: 'tickets', typeDefs: parse(broken), url: 'http://tickets/graphql' },
    ]);
    expect(result.errors?.length).toBeGreaterThan(0);
  });
});
