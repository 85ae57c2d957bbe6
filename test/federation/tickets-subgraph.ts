import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';

/** A ticket of the test subgraph: it refers to a member by userid and to a department by its WeCom id. */
export interface Ticket {
  id: string;
  title: string;
  assigneeUserid: string;
  departmentId: number;
}

/**
 * Another team's subgraph, as a company's supergraph would have one: tickets that point at this
 * service's User and Department entities by key (stubs with `resolvable: false`: only the keys).
 */
export const TICKETS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])

  type Query {
    tickets: [Ticket!]!
  }

  type Ticket {
    id: ID!
    title: String!
    assignee: User
    department: Department
  }

  type User @key(fields: "userid", resolvable: false) {
    userid: String!
  }

  type Department @key(fields: "departmentId", resolvable: false) {
    departmentId: Int!
  }
`;

/** The tickets subgraph: a tiny Yoga over @apollo/subgraph, on an ephemeral loopback port. */
export class TicketsSubgraph {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(tickets: readonly Ticket[]): Promise<TicketsSubgraph> {
    const schema = buildSubgraphSchema({
      typeDefs: parse(TICKETS_SDL),
      resolvers: {
        Query: { tickets: () => tickets },
        Ticket: {
          assignee: (t: Ticket) => ({ __typename: 'User', userid: t.assigneeUserid }),
          department: (t: Ticket) => ({ __typename: 'Department', departmentId: t.departmentId }),
        },
      },
    });
    const yoga = createYoga({ schema, logging: false, graphiql: false });
    const server = createServer(yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TicketsSubgraph(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
