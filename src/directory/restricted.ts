import type { WeComClient } from '../wecom/client.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComUser } from '../wecom/users.ts';
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
      const key = userid.toLowerCase();
      for (const [id, depts] of await memberships()) if (id.toLowerCase() === key) return minimalUser(id, depts);
      return null;
    },
    tags: direct.tags,
    tag: direct.tag,
  };
}
