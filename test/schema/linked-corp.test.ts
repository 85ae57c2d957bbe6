import { describe, expect } from 'vitest';
import { graphql } from '../generated/index.ts';
import { serviceTest } from '../testkit/service.ts';
import type { Wire } from '../testkit/wire.ts';

const it = serviceTest({}, { resetStats: false });

describe('linked corps', () => {
  it('browses the granted link group, its tree and members as the emulator has them', async ({ service, execute }) => {
    const perms = (await service.wecom.asApp('linkedcorp/agent/get_perm_list', { body: {} })).json;
    const granted = perms.department_ids[0] as string;
    const linkedId = granted.split('/')[0]!;
    const depts = (await service.wecom.asApp('linkedcorp/department/list', { body: { department_id: granted } })).json
      .department_list as Wire[];
    const members = (await service.wecom.asApp('linkedcorp/user/list', { body: { department_id: granted, fetch_child: true } })).json
      .userlist as Wire[];

    await service.wecom.resetStats();
    const res = await execute(
      graphql(
        `query LinkedCorps { linkedCorps { linkedId departments { departmentId name children { departmentId name } } members { userid corpId name } } }`,
      ),
    );
    expect(res.errors).toBeUndefined();
    const corp = res.data!.linkedCorps[0]!;
    expect(corp.linkedId).toBe(linkedId);
    const root = depts.find((d) => `${linkedId}/${d.department_id}` === granted)!;
    expect(corp.departments).toHaveLength(1);
    expect(corp.departments[0]!.name).toBe(root.department_name);
    expect(corp.departments[0]!.children.map((c) => c.departmentId).sort()).toEqual(
      depts
        .filter((d) => d.parentid === root.department_id)
        .map((d) => `${linkedId}/${d.department_id}`)
        .sort(),
    );
    expect(corp.members.map((m) => m.userid).sort()).toEqual(members.map((m) => `${m.corpid}/${m.userid}`).sort());
    const calls = await service.calls();
    expect(calls['/cgi-bin/linkedcorp/agent/get_perm_list']).toBe(1);
    expect(calls['/cgi-bin/linkedcorp/department/list']).toBe(1);
    expect(calls['/cgi-bin/linkedcorp/user/list']).toBe(1);
  });

  it('reads a linked user and a linked department by composite id', async ({ service, execute }) => {
    const perms = (await service.wecom.asApp('linkedcorp/agent/get_perm_list', { body: {} })).json;
    const members = (
      await service.wecom.asApp('linkedcorp/user/list', { body: { department_id: perms.department_ids[0], fetch_child: true } })
    ).json.userlist as Wire[];
    const m = members[1]!;
    const res = await execute(
      graphql(
        `query LinkedByCompositeId($u: String!, $d: String!) { linkedUser(userid: $u) { userid name email position departments { departmentId } } linkedDepartment(id: $d) { name members(recursive: true) { userid } parent { departmentId } } }`,
      ),
      {
        u: `${m.corpid}/${m.userid}`,
        d: perms.department_ids[0],
      },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.linkedUser).toMatchObject({ userid: `${m.corpid}/${m.userid}`, name: m.name, email: m.email, position: m.position });
    expect(res.data!.linkedDepartment!.members).toHaveLength(members.length);
    expect(res.data!.linkedDepartment!.parent).toBeNull();
  });

  it('gives null for unknown ids and a clear error for malformed ones', async ({ execute }) => {
    const res = await execute(
      graphql(`query UnknownLinked { linkedUser(userid: "wwnope/nobody") { name } linkedDepartment(id: "lknope/1") { name } }`),
    );
    expect(res.data).toEqual({ linkedUser: null, linkedDepartment: null });
    const bad = await execute(graphql(`query MalformedLinkedId { linkedUser(userid: "no-slash") { name } }`));
    expect(bad.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});
