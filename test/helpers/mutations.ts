import type { ServiceHarness } from './service.ts';

/** Every typed mutation error with its fields; spread it in a mutation's result selection. */
export const ERROR_FIELDS = `
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
  }`;

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
