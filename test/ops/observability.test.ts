import { describe, expect, it } from 'vitest';
import { OpsService } from '../helpers/ops-service.ts';
import { opsTest } from '../testkit/ops.ts';
import { metricValue } from '../helpers/service-process.ts';
import { CallbackSender } from '../helpers/callback-sender.ts';
import { Readiness } from '../../src/ops/readiness.ts';
import { MAX_OPERATION_NAMES } from '../../src/ops/metrics.ts';
import { InFlight, createHttpFront, createMetricsListener } from '../../src/ops/http.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What an operator sees: request ids on responses and log lines, Prometheus metrics that agree
 * with what WeCom (the emulator) counted, and readiness that tells whether WeCom answers.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('HTTP front and metrics', () => {
  const post = (service: OpsService, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const scrape = async (service: OpsService) => {
    const res = await fetch(`${service.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  opsTest(
    'echoes a sane x-request-id, replaces an unsafe one, and tags the access log and the WeCom client’s lines with it',
    async ({ service }) => {
      const given = await post(service, { query: '{ user(userid: "nobody-here") { name } }' }, { 'x-request-id': 'edge-7f3a.42' });
      expect(given.headers.get('x-request-id')).toBe('edge-7f3a.42');
      expect((await given.json()).data).toEqual({ user: null });
      const lines = service.logs.filter((l) => l.reqId === 'edge-7f3a.42');
      // The client's own line about the lookup (user/get answered 60111) carries the request's id.
      expect(lines.find((l) => l.msg === 'wecom call failed')).toMatchObject({ endpoint: '/cgi-bin/user/get', level: 'debug' });
      expect(lines.at(-1)).toMatchObject({ msg: 'request', method: 'POST', path: '/graphql', status: 200, level: 'info' });
      // Yoga's own lines too, and no line of this request without the id.
      expect(lines.length).toBeGreaterThan(2);

      // Too long, spaces, quotes, markup, log-line tricks: replaced by an id of our own.
      for (const unsafe of ['has spaces', 'x'.repeat(200), 'quote"d', '<script>', '{"reqId":"x"}', '-leading-dash']) {
        const res = await post(service, { query: '{ __typename }' }, { 'x-request-id': unsafe });
        expect(res.headers.get('x-request-id')).toMatch(UUID);
      }
      expect((await post(service, { query: '{ __typename }' })).headers.get('x-request-id')).toMatch(UUID);
    },
  );

  opsTest('counts every upstream attempt by endpoint and errcode exactly as WeCom saw them, and the retries', async ({ service }) => {
    const before = await scrape(service);
    await service.wecom.resetStats();
    await post(service, { query: '{ department(id: 1) { name children { name } } userIds(first: 2) { nodes { userid } } }' });
    // WeCom busy (-1) on every call of user/list_id: a read is tried three times, then fails.
    await service.wecom.faults({ errorRate: { '-1': 1 } });
    const failed = await (await post(service, { query: '{ userIds(first: 2) { nodes { userid } } }' })).json();
    await service.wecom.clearFaults();
    expect(failed.errors[0].extensions).toMatchObject({ code: 'WECOM_UNAVAILABLE', wecomErrcode: -1 });
    const after = await scrape(service);
    const stats = await service.wecom.stats();
    expect(Object.keys(stats.calls).length).toBeGreaterThan(0);
    for (const [endpoint, calls] of Object.entries(stats.calls)) {
      const counted =
        metricValue(after, 'wecom_upstream_calls_total', { endpoint }) - metricValue(before, 'wecom_upstream_calls_total', { endpoint });
      expect([endpoint, counted]).toEqual([endpoint, calls]);
    }
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('wecom_upstream_calls_total', { endpoint: '/cgi-bin/user/list_id', errcode: '-1' })).toBe(3);
    expect(delta('wecom_upstream_calls_total', { endpoint: '/cgi-bin/user/list_id', errcode: '0' })).toBe(1);
    expect(delta('wecom_retries_total', { endpoint: '/cgi-bin/user/list_id', reason: 'busy' })).toBe(2);
    expect(delta('wecom_upstream_duration_seconds_count', { endpoint: '/cgi-bin/user/list_id' })).toBe(4);
    expect(delta('graphql_errors_total', { code: 'WECOM_UNAVAILABLE' })).toBe(1);
    expect(metricValue(after, 'wecom_scheduler_queue_depth', { endpoint: '/cgi-bin/user/list_id' })).toBe(0);
  });

  opsTest(
    'counts GraphQL operations by type and name (answers from the response cache too), and result errors by code',
    async ({ service }) => {
      const before = await scrape(service);
      await post(service, { query: 'query DeptName { department(id: 1) { name } }' });
      // The same text again: answered from the response cache, without executing.
      await post(service, { query: 'query DeptName { department(id: 1) { name } }' });
      await post(service, { query: '{ t: __typename }' });
      await post(service, { query: '{ nosuchfield }' });
      await post(service, { query: '{ department(' });
      const after = await scrape(service);
      const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
      expect(delta('graphql_operations_total', { operation_type: 'query', operation_name: 'DeptName' })).toBe(2);
      expect(delta('graphql_operations_total', { operation_type: 'query', operation_name: 'anonymous' })).toBe(1);
      expect(delta('graphql_operation_duration_seconds_count', { operation_type: 'query' })).toBe(2);
      expect(delta('graphql_response_cache_hits_total', {})).toBe(1);
      expect(delta('graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
      expect(delta('graphql_errors_total', { code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
      expect(delta('http_requests_total', { route: '/graphql', method: 'POST' })).toBe(5);
    },
  );

  opsTest('labels at most a bounded number of operation names (the client chooses them)', async ({ service }) => {
    await Promise.all(Array.from({ length: MAX_OPERATION_NAMES + 20 }, (_, i) => post(service, { query: `query Op${i} { __typename }` })));
    const text = await scrape(service);
    const names = new Set([...text.matchAll(/graphql_operations_total\{[^}]*operation_name="([^"]+)"/g)].map((m) => m[1]));
    expect(names.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 2); // + "anonymous" and "other"
    expect(metricValue(text, 'graphql_operations_total', { operation_name: 'other' })).toBeGreaterThanOrEqual(20);
  });

  opsTest('reports directory cache hits and misses, and callbacks by outcome', async ({ service }) => {
    service.app.cache!.invalidateAll();
    const before = await scrape(service);
    // Two different queries (the response cache answers only the same text): the tree is built once
    // from the department list (a miss), then served as built.
    await post(service, { query: '{ department(id: 1) { name } }' });
    await post(service, { query: '{ department(id: 1) { departmentId name } }' });
    // One member: read from WeCom once (a miss), then from the directory cache (a hit).
    const userid = (await service.wecom.asContact('user/list_id', { body: { limit: 1 } })).json.dept_user[0].userid as string;
    await post(service, { query: 'query($u: String!) { user(userid: $u) { name } }', variables: { u: userid } });
    await post(service, { query: 'query($u: String!) { user(userid: $u) { userid name } }', variables: { u: userid } });
    const sender = new CallbackSender({ ...service.wecom.creds.callback, corpId: service.wecom.creds.corpId });
    const signed = sender.post(sender.changeContact('update_party', { Id: 3, Name: '新名字' }));
    const send = (query: Record<string, string>, body: string) =>
      fetch(`${service.url}/wecom/callback?${new URLSearchParams(query)}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/xml' },
      });
    expect((await send(signed.query, signed.body)).status).toBe(200);
    expect((await send(signed.query, signed.body)).status).toBe(200); // WeCom's retry
    expect((await send({ ...signed.query, msg_signature: '0'.repeat(40) }, signed.body)).status).toBe(403);
    await service.app.callback!.idle();
    const after = await scrape(service);
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('directory_cache_requests_total', { result: 'miss' })).toBe(2);
    expect(delta('directory_cache_requests_total', { result: 'hit' })).toBe(1);
    expect(delta('directory_cache_view_requests_total', { result: 'build' })).toBe(1);
    expect(delta('directory_cache_view_requests_total', { result: 'hit' })).toBe(1);
    expect(delta('wecom_callbacks_total', { outcome: 'accepted' })).toBe(1);
    expect(delta('wecom_callbacks_total', { outcome: 'duplicate' })).toBe(1);
    expect(delta('wecom_callbacks_total', { outcome: 'rejected', reason: 'bad_signature' })).toBe(1);
    expect(delta('directory_changes_total', { kind: 'DEPARTMENT_UPDATED', source: 'callback' })).toBe(1);
    expect(delta('directory_cache_invalidations_total', {})).toBe(1);
  });

  opsTest('reports what the response cache holds: answers and their bytes (part of the RSS)', async ({ service }) => {
    const before = await scrape(service);
    const text = await (await post(service, { query: `query Gauge${Date.now()} { department(id: 1) { name } }` })).text();
    expect(text).toContain('"data"');
    const after = await scrape(service);
    const delta = (name: string) => metricValue(after, name, {}) - metricValue(before, name, {});
    expect(delta('graphql_response_cache_entries')).toBe(1);
    expect(delta('graphql_response_cache_bytes')).toBe(Buffer.byteLength(text));
  });

  opsTest('puts no secret, token or userid in /metrics', async ({ service }) => {
    await post(service, { query: '{ department(id: 1) { members(first: 3) { nodes { userid } } } }' });
    const text = await scrape(service);
    const creds = service.wecom.creds;
    for (const secret of [
      creds.contactSecret,
      creds.app.secret,
      creds.callback.token,
      creds.callback.encodingAESKey,
      await service.wecom.contactToken(),
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/access_token|corpsecret|nobody-here|edge-7f3a/);
    const endpoints = new Set([...text.matchAll(/endpoint="([^"]*)"/g)].map((m) => m[1]!));
    for (const endpoint of endpoints) expect(endpoint).toMatch(/^\/cgi-bin\/[a-z_/]+$/);
  });

  opsTest('with METRICS_PORT, serves /metrics only on its own listener', async ({ service }) => {
    const listen = async (handler: Parameters<typeof createServer>[1]) => {
      const server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    };
    const metricsOnly = await listen(createMetricsListener(service.metrics));
    const main = await listen(
      createHttpFront({
        handle: service.app.handle,
        logger: createLogger({ level: 'silent' }),
        readiness: service.readiness,
        inFlight: new InFlight(),
        metrics: service.metrics,
        serveMetrics: false,
      }),
    );
    try {
      const scraped = await fetch(`${metricsOnly.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('wecom_upstream_calls_total');
      expect((await fetch(`${metricsOnly.url}/graphql`)).status).toBe(404);
      const onMain = await fetch(`${main.url}/metrics`);
      expect(onMain.status).toBe(404);
      expect(await onMain.text()).not.toContain('wecom_upstream_calls_total');
    } finally {
      for (const { server } of [metricsOnly, main]) {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    }
  });

  opsTest('/healthz answers while the process serves; /readyz when WeCom answers', async ({ service }) => {
    const health = await fetch(`${service.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${service.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', checks: { wecom: 'ok' }, visibility: { scope: 'corp' } }]);
    expect(metricValue(await scrape(service), 'service_ready')).toBe(1);
  });
});

describe('readiness', () => {
  it('is not ready, with a secret-free reason, when WeCom refuses the credentials', async () => {
    const service = await OpsService.start({ contactSecret: 'a-wrong-secret-value', readinessCacheMs: 0 });
    try {
      const res = await fetch(`${service.url}/readyz`);
      const body = await res.json();
      expect([res.status, body]).toEqual([
        503,
        { status: 'not ready', checks: { wecom: 'config error 40001 (config)' }, visibility: { scope: 'corp' } },
      ]);
      expect(JSON.stringify(body)).not.toContain('a-wrong-secret-value');
    } finally {
      await service.close();
    }
  });

  it('is not ready when WeCom does not answer', async () => {
    const service = await OpsService.start({ readinessCacheMs: 0 });
    await service.wecom.close(); // WeCom gone
    try {
      const res = await fetch(`${service.url}/readyz`);
      expect(res.status).toBe(503);
      expect((await res.json()).checks.wecom).toMatch(/^(transport error|timed out)/);
    } finally {
      await service.close();
    }
  });

  it('reuses an answer for cacheMs, runs one check at a time, and says "shutting down" once told', async () => {
    let checks = 0;
    let now = 0;
    const readiness = new Readiness({
      wecom: async () => {
        checks++;
        await new Promise((r) => setTimeout(r, 10));
      },
      redis: async () => true,
      cacheMs: 5_000,
      now: () => now,
    });
    const reports = await Promise.all([readiness.check(), readiness.check(), readiness.check()]);
    expect(reports).toEqual(Array(3).fill({ ready: true, status: 'ready', checks: { wecom: 'ok', redis: 'ok' } }));
    now = 4_999;
    await readiness.check();
    expect(checks).toBe(1);
    now = 5_000;
    await readiness.check();
    expect(checks).toBe(2);
    readiness.markShuttingDown();
    expect(await readiness.check()).toEqual({ ready: false, status: 'shutting down', checks: {} });
    expect(readiness.lastReady).toBe(false);
  });
});
