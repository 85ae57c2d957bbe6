import { describe, expect } from 'vitest';
import { freePort } from '../helpers/service-process.ts';
import { processTest as it } from '../testkit/ops.ts';
import { SseSubscription } from '../helpers/sse.ts';

/**
 * Graceful shutdown of the real process (`src/main.ts` on its embedded emulator): on SIGTERM,
 * /readyz answers 503 first, a slow request in flight still completes, subscriptions end with a
 * normal end of stream, new connections are refused, and the process exits 0.
 */

describe('graceful shutdown on SIGTERM', () => {
  it('turns readiness false, finishes the request in flight, ends subscriptions, refuses new connections, exits 0', async ({
    startProcess,
  }) => {
    const emulatorPort = await freePort();
    const s = await startProcess({ WECOM_EMULATOR_PORT: String(emulatorPort), SHUTDOWN_DELAY_MS: '600', SHUTDOWN_TIMEOUT_MS: '10000' });
    const emulator = `http://127.0.0.1:${emulatorPort}`;
    // user/list_id, with a page size never asked before (the response cache would answer a repeat).
    const query = (first: number) => `{ userIds(first: ${first}) { nodes { userid } } }`;
    expect((await s.query(query(2))).errors).toBeUndefined(); // token fetched: what follows is one slow call
    // Ready once the directory cache's first warm-up has finished (src/cache/warm-up.ts).
    await expect.poll(async () => (await fetch(`${s.url}/readyz`)).status, { timeout: 15_000, interval: 100 }).toBe(200);

    const sub = await SseSubscription.open(fetch, `${s.url}/graphql`, 'subscription { contactChanged { kind } }');
    // Every WeCom call now takes 1.5 s: a request in flight when the signal comes.
    await fetch(`${emulator}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 1500 }),
    });
    const started = Date.now();
    const slow = s.query(query(3));
    await new Promise((r) => setTimeout(r, 200));

    s.proc.kill('SIGTERM');
    const events: string[] = [];
    // Readiness turns false as soon as the signal is handled (the listener stays open for
    // SHUTDOWN_DELAY_MS, so load balancers can see it).
    let ready = await fetch(`${s.url}/readyz`);
    while (ready.status === 200 && Date.now() - started < 1000) ready = await fetch(`${s.url}/readyz`);
    events.push(`readyz ${ready.status}`);
    expect(await ready.json()).toEqual({ status: 'shutting down', checks: {} });

    const result = await slow;
    events.push('slow request answered');
    expect(result.errors).toBeUndefined();
    expect(result.data!.userIds.nodes).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);

    // The subscription ended normally (Yoga's `complete` event), not cut.
    expect(await sub.next(5_000)).toBeNull();
    events.push('subscription completed');

    const exit = await s.exited;
    events.push(`exit ${exit.code}`);
    expect(events).toEqual(['readyz 503', 'slow request answered', 'subscription completed', 'exit 0']);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow(); // nothing listens any more

    const logs = s.logLines().map((l) => l.msg);
    expect(logs).toContain('shutting down: readiness is false');
    expect(s.logLines().find((l) => l.msg === 'shutdown complete')).toMatchObject({ clean: true });
  }, 30_000);

  it('cuts what is still running after SHUTDOWN_TIMEOUT_MS and exits 1', async ({ startProcess }) => {
    const emulatorPort = await freePort();
    const s = await startProcess({ WECOM_EMULATOR_PORT: String(emulatorPort), SHUTDOWN_TIMEOUT_MS: '300' });
    expect((await s.query('{ userIds(first: 2) { nodes { userid } } }')).errors).toBeUndefined();
    await fetch(`http://127.0.0.1:${emulatorPort}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 5000 }),
    });
    const slow = s.query('{ userIds(first: 3) { nodes { userid } } }').catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 200));
    const signalled = Date.now();
    s.proc.kill('SIGTERM');
    const exit = await s.exited;
    expect(exit.code).toBe(1);
    expect(Date.now() - signalled).toBeLessThan(4_000); // did not wait for the 5 s call
    expect(await slow).toBeInstanceOf(Error); // its connection was closed
    expect(s.logLines().find((l) => l.msg === 'shutdown timeout: cutting requests still in flight')).toMatchObject({
      unfinished: 1,
      timeoutMs: 300,
    });
  }, 30_000);
});
