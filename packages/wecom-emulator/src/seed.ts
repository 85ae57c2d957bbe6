// Long on purpose: the deterministic demo, large and huge organisations are data (names, departments,
// tags, apps, the linked corp) as much as code; splitting them would scatter one seed over several files.
import { userKey } from 'wecom-protocol/userid';
import { createHash } from 'node:crypto';
import type { Department, ExtAttr, Gender, User, UserStatus } from './model.ts';
import { CorpStore } from './store.ts';
import { type Rng, rng } from './random.ts';
import type { SeedSize } from './options.ts';
import { ORDER_MAX, ROOT_DEPARTMENT_ID } from 'wecom-protocol/limits';
import { attachLinkedCorps, seedLinkedCorp } from './linked-corp.ts';

/** Agent ids of the seeded self-built apps. */
export const DIRECTORY_APP_AGENT_ID = 1000002;
export const SALES_APP_AGENT_ID = 1000003;

export interface CallbackSettings {
  token: string;
  encodingAESKey: string;
}

export interface Seeded {
  store: CorpStore;
  /** The contacts-sync callback's token and key (the URL is set at run time). */
  callback: CallbackSettings;
}

const SURNAMES: [string, string][] = [
  ['王', 'wang'],
  ['李', 'li'],
  ['张', 'zhang'],
  ['刘', 'liu'],
  ['陈', 'chen'],
  ['杨', 'yang'],
  ['赵', 'zhao'],
  ['黄', 'huang'],
  ['周', 'zhou'],
  ['吴', 'wu'],
  ['徐', 'xu'],
  ['孙', 'sun'],
  ['胡', 'hu'],
  ['朱', 'zhu'],
  ['高', 'gao'],
  ['林', 'lin'],
  ['何', 'he'],
  ['郭', 'guo'],
  ['马', 'ma'],
  ['罗', 'luo'],
  ['梁', 'liang'],
  ['宋', 'song'],
  ['郑', 'zheng'],
  ['谢', 'xie'],
  ['韩', 'han'],
  ['唐', 'tang'],
  ['冯', 'feng'],
  ['于', 'yu'],
  ['董', 'dong'],
  ['萧', 'xiao'],
  ['欧阳', 'ouyang'],
  ['司马', 'sima'],
];
const GIVEN: [string, string][] = [
  ['伟', 'wei'],
  ['芳', 'fang'],
  ['娜', 'na'],
  ['秀英', 'xiuying'],
  ['敏', 'min'],
  ['静', 'jing'],
  ['丽', 'li'],
  ['强', 'qiang'],
  ['磊', 'lei'],
  ['军', 'jun'],
  ['洋', 'yang'],
  ['勇', 'yong'],
  ['艳', 'yan'],
  ['杰', 'jie'],
  ['娟', 'juan'],
  ['涛', 'tao'],
  ['明', 'ming'],
  ['超', 'chao'],
  ['秀兰', 'xiulan'],
  ['霞', 'xia'],
  ['平', 'ping'],
  ['刚', 'gang'],
  ['桂英', 'guiying'],
  ['三', 'san'],
  ['四', 'si'],
  ['晓东', 'xiaodong'],
  ['子涵', 'zihan'],
  ['雨桐', 'yutong'],
  ['浩然', 'haoran'],
  ['思远', 'siyuan'],
  ['一鸣', 'yiming'],
  ['佳怡', 'jiayi'],
];
const ENGLISH_FIRST = [
  'Alice',
  'Bob',
  'Carol',
  'David',
  'Emma',
  'Frank',
  'Grace',
  'Henry',
  'Ivy',
  'Jack',
  'Kate',
  'Leo',
  'Mia',
  'Noah',
  'Olivia',
  'Peter',
  'Quinn',
  'Ruby',
  'Sam',
  'Tina',
];
const POSITIONS = [
  '工程师',
  '高级工程师',
  '产品经理',
  '设计师',
  '销售经理',
  '会计',
  'HRBP',
  '运营专员',
  'Engineer',
  'Product Manager',
  'Designer',
  'Account Manager',
  '测试工程师',
  '架构师',
];

interface DeptPlan {
  name: string;
  nameEn: string;
  children?: DeptPlan[];
}

/** The demo organisation: 40 departments, five levels at the deepest. */
const DEMO_TREE: DeptPlan[] = [
  {
    name: '研发中心',
    nameEn: 'R&D Center',
    children: [
      {
        name: '平台部',
        nameEn: 'Platform',
        children: [
          {
            name: '基础架构组',
            nameEn: 'Infrastructure',
            children: [
              { name: '存储小组', nameEn: 'Storage' },
              { name: '网络小组', nameEn: 'Networking' },
            ],
          },
          { name: '中间件组', nameEn: 'Middleware' },
          { name: 'SRE组', nameEn: 'SRE' },
        ],
      },
      {
        name: '应用开发部',
        nameEn: 'Applications',
        children: [
          { name: '前端组', nameEn: 'Frontend' },
          { name: '后端组', nameEn: 'Backend' },
          { name: '移动端组', nameEn: 'Mobile' },
        ],
      },
      {
        name: '质量保障部',
        nameEn: 'Quality Assurance',
        children: [
          { name: '自动化测试组', nameEn: 'Test Automation' },
          { name: '性能测试组', nameEn: 'Performance' },
        ],
      },
      {
        name: '数据智能部',
        nameEn: 'Data Intelligence',
        children: [
          { name: '数据平台组', nameEn: 'Data Platform' },
          { name: '算法组', nameEn: 'Algorithms' },
        ],
      },
    ],
  },
  {
    name: '产品部',
    nameEn: 'Product',
    children: [
      { name: '产品设计组', nameEn: 'Product Design' },
      { name: '用户体验组', nameEn: 'UX' },
      { name: '产品运营组', nameEn: 'Product Operations' },
    ],
  },
  {
    name: '销售部',
    nameEn: 'Sales',
    children: [
      {
        name: '华北大区',
        nameEn: 'North China',
        children: [
          { name: '北京销售组', nameEn: 'Beijing' },
          { name: '天津销售组', nameEn: 'Tianjin' },
        ],
      },
      {
        name: '华东大区',
        nameEn: 'East China',
        children: [
          { name: '上海销售组', nameEn: 'Shanghai' },
          { name: '杭州销售组', nameEn: 'Hangzhou' },
        ],
      },
      {
        name: '华南大区',
        nameEn: 'South China',
        children: [
          { name: '深圳销售组', nameEn: 'Shenzhen' },
          { name: '广州销售组', nameEn: 'Guangzhou' },
        ],
      },
    ],
  },
  {
    name: '市场部',
    nameEn: 'Marketing',
    children: [
      { name: '品牌组', nameEn: 'Brand' },
      { name: '增长组', nameEn: 'Growth' },
    ],
  },
  { name: '人力资源部', nameEn: 'Human Resources', children: [{ name: '招聘组', nameEn: 'Recruiting' }] },
  { name: '财务部', nameEn: 'Finance' },
];

const TAG_NAMES = ['技术委员会', '新员工', 'Remote', '党员', '篮球俱乐部', '导师', 'On-call', '管理层', '外包', 'VIP客户经理'];

/** Builds the seeded corp: same seed and size, same organisation, byte for byte. */
export function seedCorp(seed: number, size: SeedSize): Seeded {
  const r = rng(seed);
  const hex = (label: string, len: number) => createHash('sha256').update(`${seed}:${label}`).digest('hex').slice(0, len);
  const alnum = (label: string, len: number) =>
    createHash('sha512')
      .update(`${seed}:${label}`)
      .digest('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, len);

  const store = new CorpStore(`ww${hex('corp', 16)}`, alnum('contact-secret', 43), '示例科技有限公司');
  store.apps.push(
    {
      agentId: DIRECTORY_APP_AGENT_ID,
      secret: alnum('app-secret', 43),
      name: '通讯录查询',
      visibility: { departments: [ROOT_DEPARTMENT_ID], users: [], tags: [] },
      description: '查询组织架构与同事信息',
      squareLogoUrl: `https://wework.qpic.cn/bizmail/${hex('directory-logo', 32)}/0`,
      redirectDomain: 'directory.example.com',
      homeUrl: 'https://directory.example.com/',
      close: 0,
      reportLocationFlag: 0,
      isReportEnter: 0,
    },
    {
      agentId: SALES_APP_AGENT_ID,
      secret: alnum('sales-app-secret', 43),
      name: '销售助手',
      visibility: { departments: [], users: [], tags: [] },
      description: '销售团队的客户与业绩工具',
      squareLogoUrl: `https://wework.qpic.cn/bizmail/${hex('sales-logo', 32)}/0`,
      redirectDomain: 'sales.example.com',
      homeUrl: '',
      close: 0,
      reportLocationFlag: 1,
      isReportEnter: 1,
    },
  );

  addDepartment(store, { id: ROOT_DEPARTMENT_ID, name: store.corpName, name_en: 'Example Tech', parentid: 0, order: 100_000_000 });

  const shape = SHAPES[size];
  const plans = shape.tree();
  let nextId = 2;
  const leaves: number[] = [];
  const walk = (list: DeptPlan[], parent: number) => {
    list.forEach((plan, i) => {
      const id = nextId++;
      // The first department of the demo carries the largest order WeCom allows (uint32 max).
      const order = id === 2 ? ORDER_MAX : (list.length - i) * 1000 + r.int(0, 999);
      addDepartment(store, { id, name: plan.name, name_en: plan.nameEn, parentid: parent, order });
      if (plan.children?.length) walk(plan.children, id);
      else leaves.push(id);
    });
  };
  walk(plans, ROOT_DEPARTMENT_ID);

  const allDepts = [...store.departments.keys()];
  const userCount = shape.users;
  const names = new NameFactory(r);
  for (let i = 0; i < userCount; i++) {
    // Most people sit in leaf teams; a few in managing departments; about 8% in two departments.
    const main = i === 0 ? ROOT_DEPARTMENT_ID : r.chance(0.85) ? r.pick(leaves) : r.pick(allDepts);
    const depts = [main];
    if (i > 0 && r.chance(0.08)) {
      const extra = r.pick(allDepts);
      if (extra !== main) depts.push(extra);
    }
    store.putUser(makeUser(store, r, names, i, depts, hex));
  }

  assignLeaders(store, r);
  seedTags(store, r, size);
  // The sales app sees the Sales subtree, one member outside it, and the "VIP客户经理" tag.
  const sales = [...store.departments.values()].find((d) => d.name_en === 'Sales');
  const sales_ = store.apps.find((a) => a.agentId === SALES_APP_AGENT_ID)!;
  if (sales) sales_.visibility.departments.push(sales.id);
  const outsider = store.membersOf(leaves[0]!)[0];
  if (outsider) sales_.visibility.users.push(outsider.userid);
  sales_.visibility.tags.push(TAG_NAMES.length);
  // One partner corp in a link group (互联企业, §8), from its own sequence of the same seed.
  attachLinkedCorps(store, [seedLinkedCorp(seed, { wholeCorp: DIRECTORY_APP_AGENT_ID, oneDepartment: SALES_APP_AGENT_ID })]);

  return {
    store,
    callback: { token: alnum('callback-token', 16), encodingAESKey: alnum('callback-aes', 43) },
  };
}

function addDepartment(store: CorpStore, d: Omit<Department, 'department_leader' | 'created_seq'>): void {
  store.putDepartment({ ...d, department_leader: [], created_seq: store.nextSeq() });
}

/** Each size: its tree below the root, how many members, and at most how many members per tag. */
const SHAPES: Record<SeedSize, { tree: () => DeptPlan[]; users: number; membersPerTag: number }> = {
  demo: { tree: () => DEMO_TREE, users: 400, membersPerTag: 12 },
  // 20 divisions × 10 departments × 10 teams = 2,220 departments.
  large: { tree: () => gridTree(20, 10), users: 50_400, membersPerTag: 200 },
  // 40 divisions × 20 departments × 10 teams = 8,840 departments (the corps WeCom's limits bite).
  huge: { tree: () => gridTree(40, 20), users: 200_000, membersPerTag: 800 },
};

/** Divisions of departments of ten teams each. */
function gridTree(divisions: number, departmentsPerDivision: number): DeptPlan[] {
  return Array.from({ length: divisions }, (_, a) => ({
    name: `事业群${a + 1}`,
    nameEn: `Division ${a + 1}`,
    children: Array.from({ length: departmentsPerDivision }, (_, b) => ({
      name: `部门${a + 1}-${b + 1}`,
      nameEn: `Department ${a + 1}-${b + 1}`,
      children: Array.from({ length: 10 }, (_, c) => ({
        name: `小组${a + 1}-${b + 1}-${c + 1}`,
        nameEn: `Team ${a + 1}-${b + 1}-${c + 1}`,
      })),
    })),
  }));
}

/** Unique Chinese names with pinyin userids; every fifth person also has an English name. */
class NameFactory {
  private readonly used = new Map<string, number>();
  constructor(private readonly r: Rng) {}

  next(): { name: string; userid: string; english: string } {
    const [sc, sp] = this.r.pick(SURNAMES);
    const [gc, gp] = this.r.pick(GIVEN);
    const base = `${sp}${gp}`;
    const n = (this.used.get(base) ?? 0) + 1;
    this.used.set(base, n);
    const english = this.r.chance(0.2) ? `${this.r.pick(ENGLISH_FIRST)} ${capitalise(sp)}` : '';
    return { name: `${sc}${gc}`, userid: n === 1 ? base : `${base}${n}`, english };
  }
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function makeUser(
  store: CorpStore,
  r: Rng,
  names: NameFactory,
  i: number,
  depts: number[],
  hex: (label: string, len: number) => string,
): User {
  const { name, userid, english } = names.next();
  const status: UserStatus = i === 0 ? 1 : r.chance(0.9) ? 1 : r.chance(0.7) ? 4 : 2;
  const gender: Gender = r.chance(0.5) ? '1' : '2';
  const attrs: ExtAttr[] = [{ type: 0, name: '工号', text: { value: `E${String(10000 + i)}` } }];
  if (r.chance(0.3)) {
    attrs.push({ type: 1, name: '个人主页', web: { url: `https://intranet.example.com/~${userid}`, title: '主页' } });
  }
  const avatar = `https://wework.qpic.cn/wwhead/${hex(`avatar${i}`, 24)}/0`;
  return {
    userid,
    name: english && r.chance(0.5) ? english : name,
    alias: english,
    mobile: `1${r.pick(['38', '39', '50', '86', '77'])}${String(10_000_000 + i).slice(-8)}`,
    email: `${userid}@example.com`,
    biz_mail: `${userid}@corp.example.com`,
    department: depts,
    order: depts.map(() => (r.chance(0.2) ? r.int(1, 1000) : 0)),
    is_leader_in_dept: depts.map(() => 0),
    direct_leader: [],
    position: r.pick(POSITIONS),
    gender,
    telephone: r.chance(0.3) ? `010-${r.int(60000000, 69999999)}` : '',
    address: r.chance(0.4) ? `北京市海淀区中关村大街${r.int(1, 200)}号` : '',
    avatar,
    thumb_avatar: avatar.replace(/\/0$/, '/100'),
    avatar_mediaid: '',
    enable: status === 2 ? 0 : 1,
    status,
    extattr: { attrs },
    external_position: r.chance(0.2) ? '客户成功' : '',
    external_profile: { external_corp_name: '示例科技', external_attr: [] },
    main_department: depts[0]!,
    open_userid: `wo${hex(`open${i}`, 30)}`,
    qr_code: `https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=${hex(`qr${i}`, 16)}`,
    english_name: english,
    openid: status === 1 ? `o${hex(`openid${i}`, 27)}` : '',
    userid_system_generated: r.chance(0.05),
    userid_changed: false,
    created_seq: store.nextSeq(),
    is_creator: i === 0,
  };
}

/**
 * One head per department that has members (部门负责人), recorded on both sides as WeCom does:
 * `is_leader_in_dept` on the member and `department_leader` on the department. Members report
 * to their main department's head, heads to the head above them.
 */
function assignLeaders(store: CorpStore, r: Rng): void {
  const heads = new Map<number, User>();
  for (const dept of store.subtree(ROOT_DEPARTMENT_ID)) {
    const members = store.membersOf(dept.id).filter((u) => u.status === 1);
    const head = members.length ? members[r.int(0, Math.min(members.length, 3) - 1)]! : undefined;
    if (!head) continue;
    heads.set(dept.id, head);
    head.is_leader_in_dept[head.department.indexOf(dept.id)] = 1;
    dept.department_leader = [head.userid];
  }
  const headAbove = (deptId: number, self: User): User | undefined => {
    for (let d = store.getDepartment(deptId); d; d = store.getDepartment(d.parentid)) {
      const h = heads.get(d.id);
      if (h && userKey(h.userid) !== userKey(self.userid)) return h;
    }
    return undefined;
  };
  for (const user of store.users.values()) {
    const boss = headAbove(user.main_department, user);
    if (boss) user.direct_leader = [boss.userid];
  }
}

function seedTags(store: CorpStore, r: Rng, size: SeedSize): void {
  const users = [...store.users.values()];
  const depts = [...store.departments.keys()].filter((d) => d !== ROOT_DEPARTMENT_ID);
  const perTag = SHAPES[size].membersPerTag;
  TAG_NAMES.forEach((tagname, i) => {
    const tagid = i + 1;
    // The last tag belongs to the sales app: only it may change it (81011 for others).
    const owner = tagid === TAG_NAMES.length ? SALES_APP_AGENT_ID : 'contact';
    const tag = { tagid, tagname, owner, users: new Set<string>(), parties: new Set<number>() } as const;
    const wanted = r.int(perTag / 2, perTag);
    for (let k = 0; k < wanted; k++) tag.users.add(userKey(r.pick(users).userid));
    if (r.chance(0.4)) tag.parties.add(r.pick(depts));
    store.tags.set(tagid, { ...tag, owner });
  });
  store.touch();
}
