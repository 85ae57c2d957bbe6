import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { allSecrets, failure, makeClient } from './helpers.ts';
import { wecomTest } from '../testkit/wecom.ts';
import {
  WeComApiError,
  WeComOutcomeUnknownError,
  WeComTimeoutError,
  WeComTransportError,
  isWeComApiError,
  isWeComHttpError,
  isWeComOutcomeUnknownError,
  isWeComTimeoutError,
} from '../../src/wecom/errors.ts';
import { MAX_TRANSIENT_RETRIES } from '../../src/wecom/client.ts';
import type { RetryEvent } from '../../src/wecom/metrics.ts';
import { Redactor } from '../../src/wecom/redact.ts';

/**
 * The client's reactions to WeCom's limits and failures, produced by the emulator's faults:
 * 45009, 45033, -1, 502, hangs, answers lost after a write was applied, oversize answers.
 */

const it = wecomTest();

/** Fast backoff so the suite runs in seconds (the rules, not the delays, are under test). */
const quick = { retryBaseDelayMs: 5, retryMaxDelayMs: 20 };

describe('45009 frequency limit', () => {
  it('a storm is waited out: every call succeeds after the window, with few upstream attempts', async ({ emulator, watch }) => {
    await emulator.faults({ rateLimitPerMinute: { '/cgi-bin/department/get': 5 } });
    const retries: RetryEvent[] = [];
    const client = makeClient(emulator, watch, {
      app: false,
      options: {
        ...quick,
        concurrency: 8,
        rateLimitWindowMs: 300,
        hooks: {
          onRetry: (e) => {
            retries.push(e);
            // The emulator's window is 60 s of its own clock: let it pass while the client backs off.
            if (e.reason === 'rate-limited') void emulator.admin('clock', 'POST', { advanceSeconds: 61 });
          },
        },
      },
    });
    try {
      await client.departments.get(2); // token first, so the storm is about department/get only
      await emulator.resetStats();
      await emulator.admin('clock', 'POST', { advanceSeconds: 61 });
      const started = Date.now();
      const ids = Array.from({ length: 20 }, (_, i) => 2 + i);
      const depts = await Promise.all(ids.map((id) => client.departments.get(id)));
      expect(depts.map((d) => d.id)).toEqual(ids);
      const stats = await emulator.stats();
      // Naive retrying would hammer for the whole window; here each refused call waits, then one probe reopens.
      // Refusals come only from calls already in flight when a window closed (< concurrency each time).
      expect(stats.errors['45009']).toBeGreaterThan(0);
      expect(stats.errors['45009']).toBeLessThan(20);
      expect(stats.calls['/cgi-bin/department/get']).toBe(20 + stats.errors['45009']!);
      expect(retries.filter((r) => r.reason === 'rate-limited').every((r) => r.delayMs >= 300)).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await client.close();
    }
  });

  it('a window that outlasts the deadline fails fast with the 45009 error, and blocks further calls locally', async ({
    emulator,
    watch,
  }) => {
    await emulator.faults({ rateLimitPerMinute: { '/cgi-bin/department/get': 1 } });
    const client = makeClient(emulator, watch, { app: false, options: { deadlineMs: 5_000 } });
    try {
      await client.departments.get(2);
      const started = Date.now();
      const err = await failure(watch, client.departments.get(3));
      expect(err).toBeInstanceOf(WeComApiError);
      expect((err as WeComApiError).errcode).toBe(45009);
      expect((err as WeComApiError).category).toBe('rate-limit');
      expect((err as WeComApiError).hint).toContain('frequency');
      const before = (await emulator.stats()).calls['/cgi-bin/department/get'];
      const again = await failure(watch, client.departments.get(4));
      expect((again as WeComApiError).errcode).toBe(45009);
      expect((await emulator.stats()).calls['/cgi-bin/department/get']).toBe(before);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await client.close();
    }
  });
});

describe('rate budget', () => {
  it('spaces calls to the per-endpoint budget, and fails at once a call the budget cannot fit in its deadline', async ({
    emulator,
    watch,
  }) => {
    const depths: number[] = [];
    const client = makeClient(emulator, watch, {
      app: false,
      options: {
        rateBudget: { '/cgi-bin/department/get': 3 },
        rateLimitWindowMs: 400,
        hooks: { onQueue: (e) => e.endpoint === '/cgi-bin/department/get' && depths.push(e.depth) },
      },
    });
    try {
      await client.users.listIds({ limit: 1 }); // token first
      const started = Date.now();
      const times: number[] = [];
      await Promise.all([2, 3, 4, 5, 6].map((id) => client.departments.get(id).then(() => times.push(Date.now() - started))));
      times.sort((a, b) => a - b);
      // Three fit the budget at once; the fourth and fifth wait for the window to slide on.
      expect(times.slice(3).every((t) => t >= 380)).toBe(true);
      expect(times[4]).toBeLessThan(3_000);
      expect(Math.max(...depths)).toBeGreaterThanOrEqual(2);
      // The budget is spent for the next ~400 ms: a 100 ms deadline cannot be met, so no call is made.
      const before = (await emulator.stats()).calls['/cgi-bin/department/get'];
      const err = await failure(watch, Promise.all([7, 8, 9, 10].map((id) => client.departments.get(id, { deadlineMs: 100 }))));
      expect(isWeComTimeoutError(err) && err.phase).toBe('queue');
      expect((await emulator.stats()).errors['45009']).toBeUndefined();
      expect(before).toBe(5);
    } finally {
      await client.close();
    }
  });
});

describe('45033 concurrency limit', () => {
  it('lowers the endpoint concurrency to what WeCom accepts, and every call succeeds', async ({ emulator, watch }) => {
    await emulator.faults({ concurrencyLimit: { '/cgi-bin/user/get': 2 }, latencyMs: 30 });
    const client = makeClient(emulator, watch, { options: { ...quick, concurrency: 8 } });
    try {
      await client.users.get('yujing');
      await emulator.resetStats();
      const userids = (await emulator.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist
        .slice(0, 40)
        .map((u: { userid: string }) => u.userid) as string[];
      const users = await Promise.all(userids.map((u) => client.users.get(u)));
      expect(users.map((u) => u.userid)).toEqual(userids);
      const stats = await emulator.stats();
      expect(stats.errors['45033']).toBeGreaterThan(0);
      expect(stats.errors['45033']).toBeLessThanOrEqual(12);
      expect(stats.calls['/cgi-bin/user/get']).toBe(40 + stats.errors['45033']!);
      // Lowered to WeCom's 2, then probed upwards one step per 20 successes (additive increase).
      expect(client.stats().scheduler['/cgi-bin/user/get']!.concurrencyCap).toBeLessThanOrEqual(3);
      expect(client.stats().scheduler['/cgi-bin/user/get']!.configuredConcurrency).toBe(8);
      expect(client.stats().endpoints['/cgi-bin/user/get']!.retries['concurrency-limited']).toBe(stats.errors['45033']);
    } finally {
      await client.close();
    }
  });
});

describe('-1 and HTTP 5xx', () => {
  it('reads are retried at most twice', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: quick });
    try {
      await client.departments.get(2);
      await emulator.faults({ errorRate: { '-1': 1 } });
      await emulator.resetStats();
      const err = await failure(watch, client.departments.get(2));
      expect((err as WeComApiError).errcode).toBe(-1);
      expect((await emulator.stats()).calls['/cgi-bin/department/get']).toBe(1 + MAX_TRANSIENT_RETRIES);

      await emulator.faults({ errorRate: { '502': 1 } });
      await emulator.resetStats();
      const http = await failure(watch, client.departments.get(2));
      expect(isWeComHttpError(http) && http.status).toBe(502);
      expect((await emulator.stats()).calls['/cgi-bin/department/get']).toBe(1 + MAX_TRANSIENT_RETRIES);
    } finally {
      await client.close();
    }
  });

  it('a burst of -1 and 502 is absorbed by the retries', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: quick });
    try {
      await client.departments.get(2);
      await emulator.faults({ errorRate: { '-1': 0.15, '502': 0.15 } });
      await emulator.resetStats();
      let ok = 0;
      for (let id = 2; id < 32; id++) {
        try {
          expect((await client.departments.get(id)).id).toBe(id);
          ok++;
        } catch (err) {
          watch.record(err);
          // Only after the two retries are used up.
          expect(isWeComApiError(err) || isWeComHttpError(err)).toBe(true);
        }
      }
      const stats = await emulator.stats();
      expect(ok).toBeGreaterThanOrEqual(28);
      expect(stats.calls['/cgi-bin/department/get']).toBeLessThanOrEqual(30 * (1 + MAX_TRANSIENT_RETRIES));
      expect((stats.errors['-1'] ?? 0) + (stats.httpErrors['502'] ?? 0)).toBeGreaterThan(0);
      // Every attempt either succeeded (once per successful call) or met a fault.
      expect(stats.calls['/cgi-bin/department/get']).toBe(ok + (stats.errors['-1'] ?? 0) + (stats.httpErrors['502'] ?? 0));
    } finally {
      await client.close();
    }
  });

  it('a write answered -1 is never resent; with the read-back failing too its outcome is unknown', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: quick });
    try {
      await client.users.get('yujing');
      await client.users.listIds({ limit: 1 }); // both tokens cached: the fault hits the write itself
      await emulator.faults({ errorRate: { '-1': 1 } });
      await emulator.resetStats();
      const err = await failure(watch, client.users.create({ userid: 'busy.write', name: '忙', department: [1], mobile: '13800002222' }));
      expect(isWeComOutcomeUnknownError(err)).toBe(true);
      expect((err as WeComOutcomeUnknownError).readBack).toBe('unverifiable');
      expect((await emulator.stats()).calls['/cgi-bin/user/create']).toBe(1);
    } finally {
      await client.close();
    }
  });
});

describe('hangs and deadlines', () => {
  it('a hanging read ends at the call deadline', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: quick });
    try {
      await client.departments.get(2);
      await emulator.faults({ errorRate: { hang: 1 } });
      const started = Date.now();
      const err = await failure(watch, client.departments.get(2, { deadlineMs: 300 }));
      expect(isWeComTimeoutError(err) && err.phase).toBe('deadline');
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await client.close();
    }
  });

  it('a caller signal ends the call too', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: quick });
    try {
      await client.departments.get(2);
      await emulator.faults({ errorRate: { hang: 1 } });
      const err = await failure(watch, client.departments.get(2, { signal: AbortSignal.timeout(200) }));
      expect(err).toBeInstanceOf(WeComTimeoutError);
    } finally {
      await client.close();
    }
  });

  it('per-attempt header timeouts retry a hanging read twice, then report the timeout', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: { ...quick, headersTimeoutMs: 100 } });
    try {
      await client.departments.get(2);
      await emulator.faults({ errorRate: { hang: 1 } });
      await emulator.resetStats();
      const err = await failure(watch, client.departments.get(2));
      expect(isWeComTimeoutError(err) && err.phase).toBe('headers');
      const stats = await emulator.stats();
      expect(stats.calls['/cgi-bin/department/get']).toBe(1 + MAX_TRANSIENT_RETRIES);
      expect(stats.hangs).toBe(1 + MAX_TRANSIENT_RETRIES);
    } finally {
      await client.close();
    }
  });

  it('a queued call gives up when its deadline comes before a slot', async ({ emulator, watch }) => {
    await emulator.faults({ latencyMs: 400 });
    const client = makeClient(emulator, watch, { options: { ...quick, concurrencyPerEndpoint: { '/cgi-bin/department/get': 1 } } });
    try {
      const slow = client.departments.get(2, { deadlineMs: 5_000 });
      await new Promise((r) => setTimeout(r, 50));
      const err = await failure(watch, client.departments.get(3, { deadlineMs: 150 }));
      expect(isWeComTimeoutError(err) && err.phase).toBe('queue');
      expect((await slow).id).toBe(2);
      expect((await emulator.stats()).calls['/cgi-bin/department/get']).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('a write whose deadline is reached after sending is reported as unknown, not resent', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: quick });
    try {
      await client.users.get('yujing');
      await client.users.listIds({ limit: 1 });
      await emulator.faults({ errorRate: { hang: 1 } });
      await emulator.resetStats();
      const err = await failure(
        watch,
        client.users.create({ userid: 'hang.write', name: '挂', department: [1], mobile: '13800003333' }, { deadlineMs: 300 }),
      );
      expect(isWeComOutcomeUnknownError(err)).toBe(true);
      expect((await emulator.stats()).calls['/cgi-bin/user/create']).toBe(1);
    } finally {
      await client.close();
    }
  });
});

describe('writes whose answer is lost after they were applied', () => {
  const lossy = { options: { ...quick, headersTimeoutMs: 300 } };

  it('user create, update and delete are read back and reported as applied, never duplicated', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, lossy);
    try {
      await client.users.get('yujing');
      await emulator.faults({
        dropResponseAfterApply: { '/cgi-bin/user/create': 1, '/cgi-bin/user/update': 1, '/cgi-bin/user/delete': 1 },
      });
      await emulator.resetStats();
      await expect(
        client.users.create({ userid: 'lost.answer', name: '丢失', department: [2], mobile: '13800004444' }),
      ).resolves.toBeUndefined();
      const created = (await emulator.console('user/get', { userid: 'lost.answer' })).json;
      expect(created).toMatchObject({ errcode: 0, name: '丢失', department: [2] });
      await expect(client.users.update({ userid: 'lost.answer', position: '新职位' })).resolves.toBeUndefined();
      expect((await emulator.console('user/get', { userid: 'lost.answer' })).json.position).toBe('新职位');
      await expect(client.users.delete('lost.answer')).resolves.toBeUndefined();
      expect((await emulator.console('user/get', { userid: 'lost.answer' })).json.errcode).toBe(60111);
      const stats = await emulator.stats();
      expect(stats.calls['/cgi-bin/user/create']).toBe(1);
      expect(stats.calls['/cgi-bin/user/update']).toBe(1);
      expect(stats.calls['/cgi-bin/user/delete']).toBe(1);
      const metrics = client.stats().endpoints;
      expect(metrics['/cgi-bin/user/create']!.reconciles).toEqual({ applied: 1 });
      expect(metrics['/cgi-bin/user/update']!.reconciles).toEqual({ applied: 1 });
      expect(metrics['/cgi-bin/user/delete']!.reconciles).toEqual({ applied: 1 });
    } finally {
      await client.close();
    }
  });

  it('department create without an id is found again by name and returns the id WeCom gave it', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, lossy);
    try {
      await client.departments.get(2);
      await emulator.faults({ dropResponseAfterApply: { '/cgi-bin/department/create': 1 } });
      await emulator.resetStats();
      const { id } = await client.departments.create({ name: '答复丢失', parentid: 2 });
      const dept = (await emulator.console('department/get', { id })).json.department;
      expect(dept).toMatchObject({ id, name: '答复丢失', parentid: 2 });
      expect((await emulator.stats()).calls['/cgi-bin/department/create']).toBe(1);
      const siblings = (await emulator.console('department/list', { id: 2 })).json.department.filter(
        (d: { name: string }) => d.name === '答复丢失',
      );
      expect(siblings).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('tag create and member changes are read back', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, lossy);
    try {
      await client.tags.list();
      await emulator.faults({ dropResponseAfterApply: { '/cgi-bin/tag/create': 1, '/cgi-bin/tag/addtagusers': 1 } });
      const { tagid } = await client.tags.create({ tagname: '丢失的标签' });
      expect((await emulator.console('tag/get', { tagid })).json.tagname).toBe('丢失的标签');
      expect(await client.tags.addMembers({ tagid, userlist: ['yujing'], partylist: [2] })).toEqual({
        invalidUsers: [],
        invalidParties: [],
      });
      expect((await emulator.stats()).calls['/cgi-bin/tag/addtagusers']).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('an import job cannot be read back: its outcome is reported as unknown and it is not resent', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, lossy);
    try {
      const csv = Buffer.from('部门名称,部门ID,父部门ID,排序\n示例科技有限公司,1,0,\n', 'utf8');
      const { mediaId } = await client.media.upload({ data: csv, filename: 'parties.csv', type: 'file' });
      await emulator.faults({ dropResponseAfterApply: { '/cgi-bin/batch/replaceparty': 1 } });
      await emulator.resetStats();
      const err = await failure(watch, client.batch.replaceParty({ mediaId }));
      expect(err).toBeInstanceOf(WeComOutcomeUnknownError);
      expect((err as WeComOutcomeUnknownError).readBack).toBe('unverifiable');
      expect((err as WeComOutcomeUnknownError).reason).toBe('timed out (headers)');
      expect((await emulator.stats()).calls['/cgi-bin/batch/replaceparty']).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('a write lost before WeCom saw it reads back as not applied, and is not resent', async ({ emulator, watch }) => {
    // A gateway that answers 502 to user/create without forwarding it, and forwards the rest.
    const proxy = await startProxy(emulator.url, (path) => path.startsWith('/cgi-bin/user/create'));
    const client = makeClient(emulator, watch, { options: { ...quick, baseUrl: proxy.url, dispatcher: watch.dispatcher(proxy.url) } });
    try {
      const err = await failure(
        watch,
        client.users.create({ userid: 'never.arrived', name: '未达', department: [1], mobile: '13800006666' }),
      );
      expect(err).toBeInstanceOf(WeComOutcomeUnknownError);
      expect((err as WeComOutcomeUnknownError).readBack).toBe('not-applied');
      expect((err as WeComOutcomeUnknownError).reason).toBe('HTTP 502');
      expect(proxy.intercepted).toBe(1);
      expect((await emulator.stats()).calls['/cgi-bin/user/create']).toBeUndefined();
      expect((await emulator.console('user/get', { userid: 'never.arrived' })).json.errcode).toBe(60111);
    } finally {
      await client.close();
      await proxy.close();
    }
  });
});

describe('transport limits', () => {
  it('an answer larger than maxResponseSize is refused', async ({ emulator, watch }) => {
    const client = makeClient(emulator, watch, { options: { ...quick, maxResponseSize: 2_000 } });
    try {
      const err = await failure(watch, client.users.list(1, { fetchChild: true }));
      expect(err).toBeInstanceOf(WeComTransportError);
      expect((err as WeComTransportError).code).toBe('UND_ERR_RES_EXCEEDED_MAX_SIZE');
    } finally {
      await client.close();
    }
  });

  it('a refused connection is retried twice and reported without any credential', async ({ emulator, watch }) => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    const retries: RetryEvent[] = [];
    const client = makeClient(emulator, watch, {
      options: { ...quick, baseUrl: url, dispatcher: undefined, hooks: { onRetry: (e) => retries.push(e) } },
    });
    try {
      const err = await failure(watch, client.users.get('yujing'));
      expect(err).toBeInstanceOf(WeComTransportError);
      expect((err as WeComTransportError).code).toBe('ECONNREFUSED');
      expect((err as WeComTransportError).endpoint).toBe('/cgi-bin/gettoken');
      expect(retries.map((r) => r.reason)).toEqual(['network', 'network']);
    } finally {
      await client.close();
    }
  });
});

describe('redaction', () => {
  it('scrubs credential parameters and known values from any text', () => {
    const r = new Redactor(['the-secret-value-123']);
    r.addToken('tok_abcdefghijklmnop');
    const text = r.redact(
      'GET /cgi-bin/gettoken?corpid=ww1&corpsecret=xyz987654321 failed; token tok_abcdefghijklmnop; key the-secret-value-123; /x?access_token=q1w2e3r4t5&a=1',
    );
    expect(text).toBe(
      'GET /cgi-bin/gettoken?corpid=ww1&corpsecret=[REDACTED] failed; token [REDACTED]; key [REDACTED]; /x?access_token=[REDACTED]&a=1',
    );
  });
});

it('no error or log line of this file contains a secret or a token', ({ emulator, watch }) => {
  expect(watch.lines.some((l) => l.includes('wecom call retried'))).toBe(true);
  watch.assertClean(allSecrets(emulator));
});

/** A tiny HTTP gateway in front of the emulator that drops matching requests with a 502. */
async function startProxy(target: string, drop: (path: string) => boolean) {
  const state = { intercepted: 0 };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (drop(req.url ?? '')) {
      state.intercepted++;
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>502 Bad Gateway</html>');
      return;
    }
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
      body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get intercepted() {
      return state.intercepted;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
