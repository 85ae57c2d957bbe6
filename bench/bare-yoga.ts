import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';

/**
 * The benchmark's ceiling: graphql-yoga answering `{ hello }` on node:http, nothing else. Every
 * scenario's throughput is shown as a ratio to this server's, measured in the same run on the same
 * machine, so the ratio is the cost of the directory service beyond HTTP + GraphQL itself.
 *
 * `node --import tsx bench/bare-yoga.ts` with PORT (and HOST, default 127.0.0.1).
 */
const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type Query {
        hello: String!
      }
    `,
    resolvers: { Query: { hello: () => 'world' } },
  }),
  graphqlEndpoint: '/graphql',
  graphiql: false,
  landingPage: false,
  logging: false,
});

const server = createServer(yoga);
server.listen(Number(process.env.PORT ?? 4100), process.env.HOST ?? '127.0.0.1');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
