import { ExplorerChangesDocument, type ExplorerChangesSubscription } from './generated/graphql.ts';
import { RequestRefused, requestHeaders } from './api.ts';

export type Change = ExplorerChangesSubscription['contactChanged'];

export type LiveState = 'connecting' | 'live' | 'offline' | 'refused';

/**
 * The `contactChanged` subscription over Server-Sent Events, read from a fetch stream (an
 * EventSource cannot send the API key header). Reconnects after a drop, resuming after the last
 * change seen (`since`), so nothing is missed while the connection was down.
 */
export function subscribeToChanges(
  onChange: (change: Change) => void,
  onState: (state: LiveState, refused?: RequestRefused) => void,
): () => void {
  const abort = new AbortController();
  let since: string | undefined;
  let retryMs = 1_000;

  const connect = async (): Promise<void> => {
    onState('connecting');
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: requestHeaders('text/event-stream'),
      body: JSON.stringify({ query: ExplorerChangesDocument.toString(), variables: since ? { since } : {} }),
      signal: abort.signal,
    });
    if (!res.ok || !res.body) {
      const body = await res.json().catch(() => undefined);
      const first = body?.errors?.[0];
      throw new RequestRefused(
        first?.message ?? `The service answered ${res.status}`,
        first?.extensions?.code ?? `HTTP_${res.status}`,
        res.status,
      );
    }
    onState('live');
    retryMs = 1_000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (event === 'complete') return;
        if (event !== 'next' || !data) continue;
        const payload = JSON.parse(data) as {
          data?: ExplorerChangesSubscription;
          errors?: { message: string; extensions?: { code?: string } }[];
        };
        if (payload.errors?.length) {
          const first = payload.errors[0]!;
          throw new RequestRefused(first.message, first.extensions?.code ?? 'SUBSCRIPTION_ERROR', 200);
        }
        const change = payload.data?.contactChanged;
        if (!change) continue;
        since = change.cursor;
        onChange(change);
      }
    }
  };

  const loop = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      try {
        await connect();
      } catch (err) {
        if (abort.signal.aborted) return;
        if (err instanceof RequestRefused && err.accessDenied) {
          // A refused key stays refused: wait for a new one (the app resubscribes when it changes).
          onState('refused', err);
          return;
        }
      }
      if (abort.signal.aborted) return;
      onState('offline');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, 30_000);
    }
  };
  void loop();
  return () => abort.abort();
}
