import type { ExtAttr, User } from './model.ts';
import type { CorpStore } from './store.ts';
import type { Scope } from './visibility.ts';

/**
 * How a member looks on the wire: the read shape of user/get and user/list (docs/wecom-api.md §3.2),
 * and the fields of a change_contact event (§9.6). Shared by the member endpoints and the exports.
 */

/**
 * WeCom documents `open_userid` as returned to third-party apps only; the emulator has none, and
 * the doc examples of user/get, user/simplelist and user/list all carry it, so it returns it to
 * every caller. Set to false to hide it from self-built apps and the contacts-sync secret.
 */
export const INCLUDE_OPEN_USERID = true;

export interface UserViewOptions {
  /** What the caller may see: departments and direct leaders outside it are left out. */
  scope: Scope;
  /** The 2022-06-20 rule for app tokens: no mobile, email, biz_mail, avatar, address, QR code; gender "0". */
  withholdSensitive: boolean;
  /** user/list items also carry the legacy `english_name`. */
  legacyFields?: boolean;
}

/** The departments of a member the caller may see, with their `order` and leader flags aligned. */
export function visibleMemberships(user: User, scope: Scope): { department: number[]; order: number[]; is_leader_in_dept: number[] } {
  if (scope.all) {
    return { department: [...user.department], order: [...user.order], is_leader_in_dept: [...user.is_leader_in_dept] };
  }
  const department: number[] = [];
  const order: number[] = [];
  const is_leader_in_dept: number[] = [];
  user.department.forEach((d, i) => {
    if (!scope.canSeeDepartment(d)) return;
    department.push(d);
    order.push(user.order[i] ?? 0);
    is_leader_in_dept.push(user.is_leader_in_dept[i] ?? 0);
  });
  return { department, order, is_leader_in_dept };
}

function visibleLeaders(store: CorpStore, user: User, scope: Scope): string[] {
  if (scope.all) return [...user.direct_leader];
  return user.direct_leader.filter((id) => {
    const leader = store.getUser(id);
    return leader !== undefined && scope.canSeeUser(leader);
  });
}

function cloneAttr(a: ExtAttr): ExtAttr {
  return {
    type: a.type,
    name: a.name,
    ...(a.text ? { text: { ...a.text } } : {}),
    ...(a.web ? { web: { ...a.web } } : {}),
    ...(a.miniprogram ? { miniprogram: { ...a.miniprogram } } : {}),
  };
}

/** A member in the read shape of user/get (and of user/list items with `legacyFields`). */
export function userView(store: CorpStore, user: User, options: UserViewOptions): Record<string, unknown> {
  const { scope, withholdSensitive } = options;
  const memberships = visibleMemberships(user, scope);
  const sensitive = (fields: Record<string, unknown>) => (withholdSensitive ? {} : fields);
  const profile = user.external_profile;
  return {
    userid: user.userid,
    name: user.name,
    department: memberships.department,
    order: memberships.order,
    position: user.position,
    ...sensitive({ mobile: user.mobile }),
    gender: withholdSensitive ? '0' : user.gender,
    ...sensitive({ email: user.email, biz_mail: user.biz_mail }),
    is_leader_in_dept: memberships.is_leader_in_dept,
    direct_leader: visibleLeaders(store, user, scope),
    ...sensitive({ avatar: user.avatar, thumb_avatar: user.thumb_avatar }),
    telephone: user.telephone,
    alias: user.alias,
    ...sensitive({ address: user.address }),
    ...(INCLUDE_OPEN_USERID ? { open_userid: user.open_userid } : {}),
    // Returned only when the caller can see that department (§3.1).
    ...(scope.canSeeDepartment(user.main_department) ? { main_department: user.main_department } : {}),
    extattr: { attrs: user.extattr.attrs.map(cloneAttr) },
    status: user.status,
    ...sensitive({ qr_code: user.qr_code }),
    external_position: user.external_position,
    external_profile: {
      ...(profile.external_corp_name !== undefined ? { external_corp_name: profile.external_corp_name } : {}),
      ...(profile.wechat_channels
        ? { wechat_channels: { nickname: profile.wechat_channels.nickname, status: profile.wechat_channels.status ?? 0 } }
        : {}),
      external_attr: (profile.external_attr ?? []).map(cloneAttr),
    },
    ...(options.legacyFields ? { english_name: user.english_name } : {}),
  };
}

/** A member in the shape of user/simplelist items. */
export function userSimpleView(user: User, scope: Scope): Record<string, unknown> {
  return {
    userid: user.userid,
    name: user.name,
    department: visibleMemberships(user, scope).department,
    ...(INCLUDE_OPEN_USERID ? { open_userid: user.open_userid } : {}),
  };
}

/** `ExtAttr` of a change event, as the XML builder renders it: `<ExtAttr><Item>…</Item>…</ExtAttr>`. */
function extAttrEventField(user: User): { Item: Record<string, unknown>[] } {
  const items: Record<string, unknown>[] = [];
  for (const a of user.extattr.attrs) {
    // Events carry text and web attributes only (§9.6).
    if (a.type === 0) items.push({ Name: a.name, Type: 0, Text: { Value: a.text?.value ?? '' } });
    else if (a.type === 1) items.push({ Name: a.name, Type: 1, Web: { Title: a.web?.title ?? '', Url: a.web?.url ?? '' } });
  }
  return { Item: items };
}

/** The member fields of create_user / update_user events (§9.6), in WeCom's order. */
export function userEventFields(user: User): Record<string, unknown> {
  return {
    Name: user.name,
    Department: user.department.join(','),
    MainDepartment: user.main_department,
    IsLeaderInDept: user.is_leader_in_dept.join(','),
    DirectLeader: user.direct_leader.join(','),
    Position: user.position,
    Mobile: user.mobile,
    Gender: user.gender,
    Email: user.email,
    BizMail: user.biz_mail,
    Status: user.status,
    Avatar: user.avatar,
    Alias: user.alias,
    Telephone: user.telephone,
    Address: user.address,
    ExtAttr: extAttrEventField(user),
  };
}

/** The event fields whose values differ between two versions of a member. */
export function changedEventFields(before: User, after: User): Record<string, unknown> {
  const old = userEventFields(before);
  const now = userEventFields(after);
  const changed: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(now)) {
    if (JSON.stringify(value) !== JSON.stringify(old[field])) changed[field] = value;
  }
  return changed;
}
