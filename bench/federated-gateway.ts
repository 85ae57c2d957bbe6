import { createServer } from 'node:http';
import { TicketsSubgraph } from '../test/federation/tickets-subgraph.ts';
import { TestGateway, composeSupergraph } from '../test/federation/gateway.ts';

/**
 * The `federated-tickets` scenario's gateway (bench/federated-tickets.ts): Hive Gateway composing
 * the directory service (its committed schema.subgraph.graphql) with a tickets subgraph whose
 * tickets are assigned to TICKET_ASSIGNEES, forwarding the caller's X-API-Key. A process of its
 * own, so the gateway's work is not counted against the load generator's CPU.
 *
 * `node --import tsx bench/federated-gateway.ts` with PORT, DIRECTORY_URL (…/graphql) and
 * TICKET_ASSIGNEES (comma-separated userids).
 */
const directory = process.env.DIRECTORY_URL;
const assignees = (process.env.TICKET_ASSIGNEES ?? '').split(',').filter(Boolean);
if (!directory || !assignees.length) {
  console.error('federated-gateway: DIRECTORY_URL and TICKET_ASSIGNEES are required');
  process.exit(2);
}

const tickets = await TicketsSubgraph.start(
  assignees.map((userid, i) => ({ id: `T-${i + 1}`, title: `Ticket ${i + 1}`, assigneeUserid: userid, departmentId: 1 })),
);
const gateway = new TestGateway(composeSupergraph({ directory, tickets: tickets.url }), { record: false });
const server = createServer(gateway.handler);
server.listen(Number(process.env.PORT ?? 4200), process.env.HOST ?? '127.0.0.1');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => void Promise.all([gateway.close(), tickets.close()]).then(() => process.exit(0)));
  });
}
