import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { GraphQLResult } from './service.ts';

type Fetch = (url: string, init: RequestInit) => Response | Promise<Response>;

/** One `next` event: `data` typed by the subscription document (untyped for a string). */
export type SubscriptionEvent<TData> = Omit<GraphQLResult, 'data'> & { data?: TData };

/**
 * A GraphQL subscription over Server-Sent Events (Yoga's "distinct connections" mode: a POST with
 * `Accept: text/event-stream`), read event by event. Works over a real socket (global fetch) and
 * in-process (`yoga.fetch`).
 */
export class SseSubscription<TData = GraphQLResult['data']> {
  private readonly results: SubscriptionEvent<TData>[] = [];
  private readonly waiters: ((result: SubscriptionEvent<TData> | null) => void)[] = [];
  private ended = false;

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    void this.pump();
  }

  static async open(fetchFn: Fetch, url: string, query: string, variables?: Record<string, unknown>): Promise<SseSubscription> {
    const abort = new AbortController();
    const response = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    return new SseSubscription(response, abort);
  }

  /** `open` for a typed document (a `graphql(...)` call): events' `data` is typed by it. */
  static async subscribe<TData, TVariables>(
    fetchFn: Fetch,
    url: string,
    document: TypedDocumentNode<TData, TVariables>,
    variables?: TVariables,
  ): Promise<SseSubscription<TData>> {
    // The stream carries the answers to this document, which is what its type says.
    return (await SseSubscription.open(fetchFn, url, print(document), variables as Record<string, unknown> | undefined)) as never;
  }

  /** The next `next` event's payload; null when the stream completed. Fails after `timeoutMs`. */
  next(timeoutMs = 5_000): Promise<SubscriptionEvent<TData> | null> {
    const queued = this.results.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no subscription event within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (result: SubscriptionEvent<TData> | null) => {
        clearTimeout(timer);
        resolve(result);
      };
      this.waiters.push(waiter);
    });
  }

  /** Events received and not yet taken. */
  pending(): number {
    return this.results.length;
  }

  close(): void {
    this.abort.abort();
  }

  private deliver(result: SubscriptionEvent<TData> | null): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(result);
    else if (result) this.results.push(result);
  }

  private async pump(): Promise<void> {
    const reader = this.response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue; // keep-alive comment
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (event === 'next' && data.length) this.deliver(JSON.parse(data.join('\n')) as SubscriptionEvent<TData>);
          if (event === 'complete') {
            this.ended = true;
            while (this.waiters.length) this.deliver(null);
            return;
          }
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
    while (this.waiters.length) this.deliver(null);
  }
}
