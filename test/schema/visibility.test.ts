import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ServiceHarness } from '../helpers/service.ts';
import { SALES_APP_AGENT_ID } from 'wecom-emulator';
import { Readiness } from '../../src/ops/readiness.ts';
import { createHttpFront, InFlight } from '../../src/ops/http.ts';

/** GET /readyz of the service's HTTP front (as main.ts wires it), on a loopback port. */
async function readyz(service: ServiceHarness): Promise<{ status: number; body: Wire }> {
  const readiness = new Readiness({
    wecom: () => service.client.core.probeTokens(),
    visibility: () => service.app.visibility(),
    cacheMs: 0,
  });
  const server = createServer(
    createHttpFront({
      handle: service.app.handle,
      logger: pino({ level: 'silent' }),
      readiness,
      inFlight: new InFlight(),
      serveMetrics: false,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
    return { status: res.status, body: (await res.json()) as Wire };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tests compare WeCom's wire JSON field by field
type Wire = Record<string, any>;

const VISIBILITY =
  '{ visibility { agentId name closed departmentIds userids tagIds departments { departmentId name } users { userid name } tags { tagId name } } }';

describe('reading through an app secret alone (no contacts-sync reads)', () => {
  let service: ServiceHarness;
  beforeAll(async () => {
    service = await ServiceHarness.start({ contactSecret: false, appAgentId: SALES_APP_AGENT_ID });
  });
  afterAll(() => service.close());
  beforeEach(() => service.wecom.resetStats());

  /** The sales app's range as WeCom answers it (the emulator's console reads any app). */
  const scope = async (): Promise<Wire> => (await service.wecom.console('agent/get', { agentid: SALES_APP_AGENT_ID })).json;
  const everyone = async (): Promise<Wire[]> =>
    (await service.wecom.console('user/list', { department_id: 1, fetch_child: 1 })).json.userlist;

  it("shows the app's visible range from one agent/get, with the departments, members and tags it names", async () => {
    const res = await service.query(VISIBILITY);
    expect(res.errors).toBeUndefined();
    const wire = await scope();
    const departments = (await service.wecom.console('department/list')).json.department as Wire[];
    const tags = (await service.wecom.console('tag/list')).json.taglist as Wire[];
    const users = await everyone();
    expect(res.data!.visibility).toEqual({
      agentId: SALES_APP_AGENT_ID,
      name: '销售助手',
      closed: false,
      departmentIds: wire.allow_partys.partyid,
      userids: wire.allow_userinfos.user.map((u: Wire) => u.userid),
      tagIds: wire.allow_tags.tagid,
      departments: wire.allow_partys.partyid.map((id: number) => ({ departmentId: id, name: departments.find((d) => d.id === id)!.name })),
      users: wire.allow_userinfos.user.map((u: Wire) => ({ userid: u.userid, name: users.find((x) => x.userid === u.userid)!.name })),
      tags: wire.allow_tags.tagid.map((id: number) => ({ tagId: id, name: tags.find((t) => t.tagid === id)!.tagname })),
    });
    expect((await service.calls())['/cgi-bin/agent/get']).toBe(1);
    // learnt once: a second request asks WeCom nothing about the app
    await service.query('{ visibility { agentId } }');
    expect((await service.calls())['/cgi-bin/agent/get']).toBe(1);
  });

  it('reaches members visible by userid or by tag outside the visible departments (search, direct lookups)', async () => {
    const wire = await scope();
    const salesRoot = wire.allow_partys.partyid[0] as number;
    const inSales = new Set(
      ((await service.wecom.console('user/list', { department_id: salesRoot, fetch_child: 1 })).json.userlist as Wire[]).map(
        (u) => u.userid,
      ),
    );
    const tagMembers = ((await service.wecom.console('tag/get', { tagid: wire.allow_tags.tagid[0] })).json.userlist as Wire[]).map(
      (u) => u.userid,
    );
    const outside = [...new Set([...wire.allow_userinfos.user.map((u: Wire) => u.userid as string), ...tagMembers])].filter(
      (u) => !inSales.has(u),
    );
    expect(outside.length).toBeGreaterThan(1);
    const users = await everyone();
    for (const userid of outside) {
      const name = users.find((u) => u.userid === userid)!.name as string;
      const found = await service.query('query($q: String!) { searchUsers(query: $q, first: 500) { nodes { userid } } }', { q: name });
      expect(found.errors).toBeUndefined();
      expect(found.data!.searchUsers.nodes.map((u: Wire) => u.userid)).toContain(userid);
    }
    const visible = new Set([...inSales, ...outside]);
    const nobody = users.find((u) => !visible.has(u.userid))!;
    const hidden = await service.query('query($q: String!) { searchUsers(query: $q) { nodes { userid } } }', { q: nobody.userid });
    expect(hidden.data!.searchUsers.nodes.map((u: Wire) => u.userid)).not.toContain(nobody.userid);
  });

  it('costs one agent/get, one tag/get per visible tag and one user/get per member outside the visible departments', async () => {
    const wire = await scope();
    // The departments the app sees (its own and its tags' subtrees) and their members: what user/list brings.
    const appDepartments = (await service.wecom.asApp('department/list', {}, SALES_APP_AGENT_ID)).json.department as Wire[];
    const listed = new Set<string>();
    for (const d of appDepartments) {
      for (const u of (await service.wecom.console('user/list', { department_id: d.id })).json.userlist as Wire[]) listed.add(u.userid);
    }
    const tagMembers = ((await service.wecom.console('tag/get', { tagid: wire.allow_tags.tagid[0] })).json.userlist as Wire[]).map(
      (u) => u.userid as string,
    );
    const outside = new Set(
      [...wire.allow_userinfos.user.map((u: Wire) => u.userid as string), ...tagMembers].filter((u) => !listed.has(u)),
    );
    const fresh = await ServiceHarness.start({ contactSecret: false, appAgentId: SALES_APP_AGENT_ID });
    try {
      await fresh.wecom.resetStats();
      const res = await fresh.query('{ searchUsers(query: "zz-no-match") { totalCount } }');
      expect(res.errors).toBeUndefined();
      const calls = await fresh.calls();
      expect(calls['/cgi-bin/agent/get']).toBe(1);
      expect(calls['/cgi-bin/tag/get']).toBe(wire.allow_tags.tagid.length);
      expect(calls['/cgi-bin/user/get']).toBe(outside.size);
      expect(calls['/cgi-bin/user/list']).toBe(appDepartments.length);
      expect((await fresh.wecom.stats()).errors).toEqual({});
    } finally {
      await fresh.close();
    }
  });

  it('shows the range, counted, on /readyz (no userids there: it answers without a key)', async () => {
    const wire = await scope();
    const { status, body } = await readyz(service);
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'ready',
      checks: { wecom: 'ok', app: 'ok' },
      visibility: {
        scope: 'app',
        agentId: SALES_APP_AGENT_ID,
        closed: false,
        departments: wire.allow_partys.partyid.length,
        members: wire.allow_userinfos.user.length,
        tags: wire.allow_tags.tagid.length,
      },
    });
  });

  it('is not ready when the app is disabled in WeCom (close = 1)', async () => {
    const fresh = await ServiceHarness.start({ contactSecret: false, appAgentId: SALES_APP_AGENT_ID });
    try {
      expect((await fresh.wecom.admin(`apps/${SALES_APP_AGENT_ID}`, 'POST', { close: 1 })).status).toBe(200);
      const { status, body } = await readyz(fresh);
      expect(status).toBe(503);
      expect(body.checks.app).toBe('app disabled in WeCom (close = 1)');
      expect(body.visibility).toMatchObject({ scope: 'app', closed: true });
      expect((await fresh.query('{ visibility { closed } }')).data!.visibility.closed).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});

describe('reading through an app secret with the directory cache (the default start)', () => {
  it('reaches the outside members through the cache, and a repeated search costs WeCom nothing', async () => {
    const service = await ServiceHarness.start({ contactSecret: false, appAgentId: SALES_APP_AGENT_ID, cache: {} });
    try {
      const wire = (await service.wecom.console('agent/get', { agentid: SALES_APP_AGENT_ID })).json;
      const userid = wire.allow_userinfos.user[0].userid as string;
      const search = () => service.query('query($q: String!) { searchUsers(query: $q) { nodes { userid } } }', { q: userid });
      expect((await search()).data!.searchUsers.nodes.map((u: Wire) => u.userid)).toContain(userid);
      await service.wecom.resetStats();
      expect((await search()).data!.searchUsers.nodes.map((u: Wire) => u.userid)).toContain(userid);
      expect((await service.wecom.stats()).total).toBe(0);
    } finally {
      await service.close();
    }
  });
});

describe('reading through the contacts-sync secret', () => {
  let service: ServiceHarness;
  beforeAll(async () => {
    service = await ServiceHarness.start({ appSecret: false });
  });
  afterAll(() => service.close());

  it('has no app range to show: visibility is null and agent/get is never called', async () => {
    await service.wecom.resetStats();
    const res = await service.query('{ visibility { agentId } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.visibility).toBeNull();
    expect((await service.calls())['/cgi-bin/agent/get'] ?? 0).toBe(0);
    const { status, body } = await readyz(service);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ready', checks: { wecom: 'ok' }, visibility: { scope: 'corp' } });
  });
});
