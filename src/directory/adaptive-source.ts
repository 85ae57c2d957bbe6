import { userKey } from 'wecom-protocol/userid';
import type { WeComClient } from '../wecom/client.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComAgent } from '../wecom/agent.ts';
import { WeComApiError } from '../wecom/errors.ts';
import { clientSource, type DirectorySource } from './source.ts';

/**
 * The errcode WeCom gives the contacts-sync secret for user/get, user/list, department/list … when
 * it calls from an IP added after 2022-08-15 (the emulator reproduces it with 48002).
 */
const RESTRICTED_ERRCODES = new Set([48002]);
/** How long one walk of user/list_id serves member lists in restricted mode. */
export const RESTRICTED_IDS_TTL_MS = 30_000;
/**
 * How long one agent/get answer says what the app may see. An admin's change to the app's visible
 * range shows after at most this long; WeCom sends no event for it.
 */
export const APP_SCOPE_TTL_MS = 5 * 60_000;
/**
 * At most this many members visible one by one or through a tag (outside the visible departments)
 * are read with user/get per directory view: the bound on what one view may cost upstream.
 */
export const OUTSIDE_MEMBERS_MAX = 2_000;

/**
 * Reads that survive the 2022-08-15 restriction on the contacts-sync secret. With an app secret the
 * client reads through the app and is never refused; with the contacts-sync secret alone, a refused
 * department/list switches this source to department/simplelist (ids, parents, orders) and
 * user/list_id (members per department), the two reads WeCom still allows. WeCom then gives no
 * names: a department is named by its id and a member by their userid.
 */
export function adaptiveSource(client: WeComClient, now: () => number = Date.now): DirectorySource & { readonly restricted: boolean } {
  const direct = clientSource(client);
  let restricted = false;
  let ids: { at: number; rows: Promise<Map<string, number[]>> } | undefined;
  let appScope: { at: number; agent: Promise<WeComAgent> } | undefined;

  /**
   * With an app secret, reads go through the app and see its visible range only: agent/get says
   * what that range is, instead of the service finding out call by call. One answer serves
   * APP_SCOPE_TTL_MS; a failed one is not kept.
   */
  const visibility = async (): Promise<WeComAgent | null> => {
    const agentId = client.core.agentId;
    if (agentId === undefined) return null;
    if (!appScope || now() - appScope.at > APP_SCOPE_TTL_MS) {
      const agent = client.agent.get(agentId);
      appScope = { at: now(), agent };
      agent.catch(() => (appScope = undefined));
    }
    return appScope.agent;
  };

  /**
   * Members the app sees outside its visible departments: those made visible one by one, and the
   * members of its visible tags (a tag's departments are in department/list already). department/list
   * and user/list never bring them, so they are read with user/get, skipping the ones `known` has.
   */
  const outsideMembers = async (known: ReadonlySet<string>): Promise<WeComUser[]> => {
    const agent = await visibility();
    if (!agent) return [];
    const wanted = new Map<string, string>();
    const want = (userid: string) => {
      const key = userKey(userid);
      if (!known.has(key) && !wanted.has(key)) wanted.set(key, userid);
    };
    agent.allowUserids.forEach(want);
    const tags = await Promise.all(agent.allowTagIds.map((tagid) => direct.tag(tagid)));
    for (const tag of tags) for (const u of tag?.userlist ?? []) want(u.userid);
    const userids = [...wanted.values()].slice(0, OUTSIDE_MEMBERS_MAX);
    const users = await Promise.all(userids.map((userid) => direct.user(userid)));
    return users.filter((u): u is WeComUser => u !== null);
  };

  const memberships = () => {
    if (!ids || now() - ids.at > RESTRICTED_IDS_TTL_MS) {
      const rows = client.users.listAllIds().then((pairs) => {
        const byUser = new Map<string, number[]>();
        for (const { userid, department } of pairs) {
          const list = byUser.get(userid);
          if (list) list.push(department);
          else byUser.set(userid, [department]);
        }
        return byUser;
      });
      ids = { at: now(), rows };
      rows.catch(() => (ids = undefined));
    }
    return ids.rows;
  };

  const minimalUser = (userid: string, department: number[]): WeComUser => ({
    userid,
    name: userid,
    department,
    order: department.map(() => 0),
    isLeaderInDept: department.map(() => 0),
    directLeader: [],
  });

  const restrictedDepartments = async (): Promise<WeComDepartment[]> =>
    (await client.departments.simpleList()).map((d) => ({ ...d, name: String(d.id), departmentLeader: [] }));

  return {
    get restricted() {
      return restricted;
    },
    async departments() {
      if (restricted) return restrictedDepartments();
      try {
        return await direct.departments();
      } catch (err) {
        if (!(err instanceof WeComApiError && RESTRICTED_ERRCODES.has(err.errcode) && !client.core.agentId)) throw err;
        restricted = true;
        return restrictedDepartments();
      }
    },
    async members(departmentId) {
      if (!restricted) return direct.members(departmentId);
      const out: WeComUser[] = [];
      for (const [userid, depts] of await memberships()) if (depts.includes(departmentId)) out.push(minimalUser(userid, depts));
      return out;
    },
    async user(userid) {
      if (!restricted) return direct.user(userid);
      const key = userKey(userid);
      for (const [id, depts] of await memberships()) if (userKey(id) === key) return minimalUser(id, depts);
      return null;
    },
    tags: direct.tags,
    tag: direct.tag,
    visibility,
    outsideMembers,
  };
}
