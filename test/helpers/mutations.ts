import { print } from 'graphql';
import { graphql } from '../generated/index.ts';
import type { ServiceHarness } from './service.ts';

/**
 * Every typed mutation error with its fields: spread `...ErrorFields` in a mutation's result
 * selection inside `graphql(...)` (codegen adds the fragment to the document and its fields to the
 * result's type).
 */
export const ErrorFields = graphql(`
  fragment ErrorFields on Error {
    __typename
    message
    ... on ValidationError { field errcode }
    ... on AlreadyExistsError { field errcode }
    ... on NotFoundError { errcode }
    ... on ConflictError { errcode }
    ... on PermissionDeniedError { errcode }
    ... on RateLimitedError { errcode retryAfterSeconds }
    ... on OutcomeUnknownError { readBack }
    ... on WeComError { errcode }
  }
`);

/** The same fragment as text, for requests sent as strings (hostile input, uploads, other schemas' tools). */
export const ERROR_FIELDS = print(ErrorFields);

/** A mutation result: one member of its union, told apart by `__typename`. */
type MutationResult = { __typename?: string };

/**
 * The success member of a mutation's result (the one with the `data` payload); a result that is
 * an error throws with what it was, so the test fails naming it.
 */
export function success<T extends MutationResult>(result: T): Extract<T, { data: unknown }> {
  if (!('data' in result)) throw new Error(`expected the mutation's success, got ${JSON.stringify(result)}`);
  return result as Extract<T, { data: unknown }>;
}

/** The error member of a mutation's result (the test asserted which); a success throws with what it was. */
export function failure<T extends MutationResult>(result: T): Extract<T, { message: string }> {
  if (!('message' in result)) throw new Error(`expected a mutation error, got ${JSON.stringify(result)}`);
  return result as Extract<T, { message: string }>;
}

export interface SseEvent {
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: each test asserts the shape of the subscription it sent
  data: any;
}

/**
 * Runs a subscription over Server-Sent Events (Yoga's `accept: text/event-stream`) and collects
 * every event until the server completes the stream.
 */
export async function subscribeOverSse(
  service: ServiceHarness,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const res = await service.app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query, variables }),
  });
  const events: SseEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: ?(.*)$/m.exec(block)?.[1];
      if (event) events.push({ event, data: data ? JSON.parse(data) : undefined });
    }
    if (done || events.at(-1)?.event === 'complete') break;
  }
  await reader.cancel().catch(() => undefined);
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}
