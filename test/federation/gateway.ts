import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import * as httpTransport from '@graphql-mesh/transport-http';
import { TICKETS_SDL } from './tickets-subgraph.ts';

/**
 * A gateway answer as parsed JSON. The supergraph's queries (tickets with their assignees) are not
 * typed by the tests' codegen, which knows schema.graphql only: the caller names the shape of
 * `data` its query asks for.
 */
export type GatewayAnswer<TData> = {
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
};

/** The committed subgraph SDL of this service, as a company would compose it (offline, from the file). */
export const DIRECTORY_SDL = readFileSync(new URL('../../schema.subgraph.graphql', import.meta.url), 'utf8');

/** Headers the gateway forwards from its caller to the directory subgraph (docs/supergraph.md). */
export const FORWARDED_HEADERS = ['authorization', 'x-api-key'] as const;

/** The supergraph of this service and the tickets subgraph, composed with @theguild/federation-composition. */
export function composeSupergraph(urls: { directory: string; tickets: string }): string {
  const result = composeServices([
    { name: 'directory', typeDefs: parse(DIRECTORY_SDL), url: urls.directory },
    { name: 'tickets', typeDefs: parse(TICKETS_SDL), url: urls.tickets },
  ]);
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.supergraphSdl;
}

/** One HTTP request the gateway sent to a subgraph. */
export interface SubgraphRequest {
  url: string;
  query: string;
  variables: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * Hive Gateway in-process (its runtime, the engine of `@graphql-hive/gateway`), over real HTTP to
 * the subgraphs, recording every request it sends them.
 */
export class TestGateway {
  readonly sent: SubgraphRequest[] = [];
  private readonly runtime: GatewayRuntime;

  /** Records what the gateway sends unless `record` is false (the benchmark's long runs). */
  constructor(supergraph: string, options: { record?: boolean } = {}) {
    const record = options.record ?? true;
    const sent = this.sent;
    this.runtime = createGatewayRuntime({
      supergraph,
      transports: { http: httpTransport },
      logging: false,
      // The caller's credential travels to the directory subgraph with every request.
      propagateHeaders: {
        fromClientToSubgraphs: ({ request }) => Object.fromEntries(FORWARDED_HEADERS.map((name) => [name, request.headers.get(name)])),
      },
      plugins: () => [
        {
          onFetch({ url, options }) {
            if (!record) return;
            const body = JSON.parse(String(options.body)) as { query: string; variables?: Record<string, unknown> };
            const headers = Object.fromEntries(new Headers(options.headers as HeadersInit).entries());
            sent.push({ url, query: body.query, variables: body.variables ?? {}, headers });
          },
        },
      ],
    });
  }

  async query<TData>(query: string, headers: Record<string, string> = {}): Promise<GatewayAnswer<TData>> {
    const res = await this.runtime.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as GatewayAnswer<TData>;
  }

  /** The gateway as a node:http request listener. */
  get handler(): GatewayRuntime {
    return this.runtime;
  }

  /** What the gateway sent to one subgraph (by URL). */
  sentTo(url: string): SubgraphRequest[] {
    return this.sent.filter((r) => r.url === url);
  }

  async close(): Promise<void> {
    await this.runtime.dispose();
  }
}
