import { userKey } from 'wecom-protocol/userid';
import { createHash } from 'node:crypto';
import type { CorpStore } from './store.ts';
import type { ExtAttr } from './model.ts';
import { fail } from './errors.ts';
import { rng } from './random.ts';

/**
 * Linked corps (互联企业, docs/wecom-api.md §8): other corps joined to ours in a link group. Apps read
 * their members and departments through `linkedcorp/*`, with composite string ids:
 * users `"CORPID/USERID"`, departments `"LINKEDID/DEPARTMENTID"`. The seeded corp has one
 * partner, generated from the same seed as the main directory.
 */

export interface LinkedDepartment {
  id: number;
  name: string;
  parentid: number;
  order: number;
}

export interface LinkedUser {
  userid: string;
  name: string;
  department: number[];
  mobile: string;
  telephone: string;
  email: string;
  position: string;
  extattr: { attrs: ExtAttr[] };
}

/** What one of our apps may see of the linked corp (ids local to that corp). */
export interface LinkedPermission {
  departments: number[];
  users: string[];
}

export interface LinkedCorp {
  /** The link group's id: the prefix of department ids. */
  linkedId: string;
  corpId: string;
  corpName: string;
  departments: Map<number, LinkedDepartment>;
  /** Keyed by lower-cased userid (userids are case-insensitive, §3.1); insertion = creation order. */
  users: Map<string, LinkedUser>;
  /** By agent id of our apps; an app missing here sees nothing of this corp. */
  permissions: Map<number, LinkedPermission>;
}

/**
 * Unconfirmed (§8: linked-corp error codes are not documented): an id outside the app's linked
 * visible range, or one that names no department/member, answers 60011 "no privilege to access
 * contact/party" — the code WeCom uses for reads outside an app's range — so an app cannot probe
 * for what exists beyond its range.
 */
export const LINKED_NOT_VISIBLE_ERRCODE = 60011;
/**
 * Unconfirmed: a missing or malformed composite id (no "/", empty part, non-numeric department
 * id, not a string) answers 40058 "invalid Request Parameter", WeCom's code for a bad or empty
 * parameter value (§10).
 */
export const LINKED_BAD_ID_ERRCODE = 40058;

const LINKED_ROOT_ID = 1;

// ── per-store attachment ──────────────────────────────────────────────────────

const attached = new WeakMap<CorpStore, LinkedCorp[]>();

/** Called by the seed: the linked corps of a freshly seeded store. */
export function attachLinkedCorps(store: CorpStore, corps: LinkedCorp[]): void {
  attached.set(store, corps);
}

export function linkedCorpsOf(store: CorpStore): readonly LinkedCorp[] {
  return attached.get(store) ?? [];
}

// ── seed ──────────────────────────────────────────────────────────────────────

const PARTNER_DEPARTMENTS: Omit<LinkedDepartment, 'id'>[] = [
  { name: '互联伙伴科技有限公司', parentid: 0, order: 100_000_000 },
  { name: '渠道合作部', parentid: 1, order: 3_000 },
  { name: '技术支持部', parentid: 1, order: 2_000 },
  { name: '华南渠道组', parentid: 2, order: 1_000 },
];
/** Members per department id (15 in all); one member of 技术支持部 also sits in 华南渠道组. */
const PARTNER_HEADCOUNT: [deptId: number, members: number][] = [
  [1, 1],
  [2, 4],
  [3, 5],
  [4, 5],
];
const PARTNER_NAMES: [string, string][] = [
  ['赵云', 'zhaoyun'],
  ['钱多多', 'qianduoduo'],
  ['孙小美', 'sunxiaomei'],
  ['李逍遥', 'lixiaoyao'],
  ['周芷若', 'zhouzhiruo'],
  ['吴用', 'wuyong'],
  ['郑和', 'zhenghe'],
  ['王语嫣', 'wangyuyan'],
  ['冯程', 'fengcheng'],
  ['陈晓', 'chenxiao'],
  ['褚英', 'chuying'],
  ['卫青', 'weiqing'],
  ['蒋欣', 'jiangxin'],
  ['沈括', 'shenkuo'],
  ['韩梅梅', 'hanmeimei'],
  ['杨帆', 'yangfan'],
  ['朱丽', 'zhuli'],
  ['秦川', 'qinchuan'],
  ['尤佳', 'youjia'],
  ['许诺', 'xunuo'],
];
const PARTNER_POSITIONS = ['渠道经理', '技术支持工程师', '解决方案架构师', '客户成功经理', '总经理'];

export interface LinkedSeedApps {
  /** Sees the whole linked corp. */
  wholeCorp: number;
  /** Sees one linked department (渠道合作部 and its sub-department). */
  oneDepartment: number;
}

/** The partner corp: same seed, same corp, byte for byte; independent of the main seed's sequence. */
export function seedLinkedCorp(seed: number, apps: LinkedSeedApps): LinkedCorp {
  const r = rng((seed ^ 0x1ced_c0de) >>> 0);
  const hex = (label: string, len: number) => createHash('sha256').update(`${seed}:linked:${label}`).digest('hex').slice(0, len);

  const departments = new Map<number, LinkedDepartment>();
  for (const [i, d] of PARTNER_DEPARTMENTS.entries()) departments.set(i + 1, { id: i + 1, ...d });

  const names = [...PARTNER_NAMES];
  const users = new Map<string, LinkedUser>();
  let n = 0;
  for (const [deptId, count] of PARTNER_HEADCOUNT) {
    for (let k = 0; k < count; k++, n++) {
      const [name, pinyin] = names.splice(r.int(0, names.length - 1), 1)[0]!;
      const attrs: ExtAttr[] = [{ type: 0, name: '工号', text: { value: `P${2000 + n}` } }];
      if (r.chance(0.4)) attrs.push({ type: 1, name: '个人主页', web: { url: `https://partner.example.com/~${pinyin}`, title: '主页' } });
      users.set(pinyin, {
        userid: pinyin,
        name,
        department: [deptId],
        mobile: `+86 13${r.int(100_000_000, 999_999_999)}`,
        telephone: r.chance(0.5) ? `020-${r.int(80_000_000, 89_999_999)}` : '',
        email: `${pinyin}@partner.example.com`,
        position: deptId === LINKED_ROOT_ID ? '总经理' : r.pick(PARTNER_POSITIONS.slice(0, 4)),
        extattr: { attrs },
      });
    }
  }
  // The first member of 技术支持部 also works in 华南渠道组: a member in two linked departments.
  const support = [...users.values()].find((u) => u.department[0] === 3)!;
  support.department.push(4);

  return {
    linkedId: `lk${hex('group', 16)}`,
    corpId: `ww${hex('corp', 16)}`,
    corpName: PARTNER_DEPARTMENTS[0]!.name,
    departments,
    users,
    permissions: new Map([
      [apps.wholeCorp, { departments: [LINKED_ROOT_ID], users: [] }],
      [apps.oneDepartment, { departments: [2], users: [] }],
    ]),
  };
}

// ── ids and visibility ────────────────────────────────────────────────────────

export const linkedDepartmentId = (corp: LinkedCorp, id: number): string => `${corp.linkedId}/${id}`;
export const linkedUserId = (corp: LinkedCorp, userid: string): string => `${corp.corpId}/${userid}`;

const DEPARTMENT_ID = /^([^/\s]+)\/(\d{1,10})$/;
const USER_ID = /^([^/\s]+)\/([^/\s]+)$/;

/** `"LINKEDID/DEPARTMENTID"` → its parts; 40058 when missing or malformed. */
export function parseLinkedDepartmentId(value: unknown, field: string): { linkedId: string; id: number } {
  const m = typeof value === 'string' ? DEPARTMENT_ID.exec(value) : null;
  if (!m) throw fail(LINKED_BAD_ID_ERRCODE, `${field} must be "LINKEDID/DEPARTMENTID"`);
  return { linkedId: m[1]!, id: Number(m[2]) };
}

/** `"CORPID/USERID"` → its parts; 40058 when missing or malformed. */
export function parseLinkedUserId(value: unknown, field: string): { corpId: string; userid: string } {
  const m = typeof value === 'string' ? USER_ID.exec(value) : null;
  if (!m) throw fail(LINKED_BAD_ID_ERRCODE, `${field} must be "CORPID/USERID"`);
  return { corpId: m[1]!, userid: m[2]! };
}

/** Departments by parent, each list in WeCom's order (larger `order` first, then id). */
function childrenOf(corp: LinkedCorp, id: number): LinkedDepartment[] {
  return [...corp.departments.values()].filter((d) => d.parentid === id && d.id !== id).sort((a, b) => b.order - a.order || a.id - b.id);
}

/** A department and its descendants, parents before children. */
export function linkedSubtree(corp: LinkedCorp, id: number): LinkedDepartment[] {
  const root = corp.departments.get(id);
  if (!root) return [];
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(corp, out[i]!.id));
  return out;
}

/** Members directly in a department, in creation order. */
export function linkedMembersOf(corp: LinkedCorp, deptId: number): LinkedUser[] {
  return [...corp.users.values()].filter((u) => u.department.includes(deptId));
}

/**
 * What an app sees of a linked corp: the subtrees of its permitted departments, their members,
 * and the individually permitted members.
 */
export interface LinkedView {
  departments: Set<number>;
  users: Set<string>;
}

export function linkedViewOf(corp: LinkedCorp, agentId: number): LinkedView {
  const perm = corp.permissions.get(agentId);
  const departments = new Set<number>();
  const users = new Set<string>();
  for (const id of perm?.departments ?? []) for (const d of linkedSubtree(corp, id)) departments.add(d.id);
  for (const u of corp.users.values()) if (u.department.some((d) => departments.has(d))) users.add(userKey(u.userid));
  for (const u of perm?.users ?? []) users.add(userKey(u));
  return { departments, users };
}
