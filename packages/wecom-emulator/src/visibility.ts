import { userKey } from 'wecom-protocol/userid';
import type { Caller, Department, User } from './model.ts';
import type { CorpStore } from './store.ts';

/**
 * What a caller may see (可见范围). The contacts-sync secret and the console see the whole corp;
 * a self-built app sees the subtrees of its visible departments, its visible members, and the
 * members and departments of its visible tags.
 */
export interface Scope {
  readonly all: boolean;
  canSeeDepartment(id: number): boolean;
  canSeeUser(user: User): boolean;
  /** Top-most visible departments (the roots of what `department/list` returns without an id). */
  rootDepartments(): Department[];
}

const FULL: Scope = {
  all: true,
  canSeeDepartment: () => true,
  canSeeUser: () => true,
  rootDepartments: () => [],
};

interface AppView {
  version: number;
  departments: Set<number>;
  users: Set<string>;
}

const views = new WeakMap<CorpStore, Map<number, AppView>>();

function appView(store: CorpStore, agentId: number): AppView {
  let perApp = views.get(store);
  if (!perApp) views.set(store, (perApp = new Map()));
  const cached = perApp.get(agentId);
  if (cached && cached.version === store.version) return cached;

  const app = store.app(agentId);
  const departments = new Set<number>();
  const users = new Set<string>();
  const addSubtree = (id: number) => {
    for (const d of store.subtree(id)) departments.add(d.id);
  };
  for (const id of app?.visibility.departments ?? []) addSubtree(id);
  for (const id of app?.visibility.users ?? []) users.add(userKey(id));
  for (const tagId of app?.visibility.tags ?? []) {
    const tag = store.tags.get(tagId);
    if (!tag) continue;
    for (const u of tag.users) users.add(u);
    for (const p of tag.parties) addSubtree(p);
  }
  // Members of visible departments are checked through their departments (canSeeUser), not
  // listed here: listing them would cost a walk over every member after each write.
  const view = { version: store.version, departments, users };
  perApp.set(agentId, view);
  return view;
}

export function scopeOf(store: CorpStore, caller: Caller): Scope {
  if (caller.kind !== 'app') return FULL;
  const view = appView(store, caller.agentId);
  return {
    all: false,
    canSeeDepartment: (id) => view.departments.has(id),
    canSeeUser: (user) => view.users.has(userKey(user.userid)) || user.department.some((d) => view.departments.has(d)),
    rootDepartments: () => [...view.departments].map((id) => store.getDepartment(id)!).filter((d) => !view.departments.has(d.parentid)),
  };
}
