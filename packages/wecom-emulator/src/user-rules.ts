// Long on purpose: every rule WeCom applies to a member on user/create and user/update, one function per
// rule group in the order WeCom reports them (errcode precedence is part of the contract, docs/wecom-api.md §3).
import { userKey } from 'wecom-protocol/userid';
import { createHash } from 'node:crypto';
import type { Caller, ExtAttr, ExternalProfile, Gender, User } from './model.ts';
import { type CorpStore, normaliseMobile } from './store.ts';
import { scopeOf } from './visibility.ts';
import { fail } from './errors.ts';
import { Clock } from './clock.ts';
import { avatarImage } from './media.ts';
import type { ChangeEvent } from './routes/types.ts';
import { bodyArray, bodyBool, bodyInt, bodyString, isInt32, isString } from './routes/params.ts';
import { changedEventFields, userEventFields } from './user-view.ts';
import {
  ADDRESS_MAX_CHARS,
  ALIAS_MAX_CHARS,
  DEPARTMENT_CHILD_NODES_MAX,
  DIRECT_LEADERS_MAX,
  ENGLISH_NAME_MAX_BYTES,
  ENGLISH_NAME_PATTERN,
  EXTATTR_TEXT_MAX_CHARS,
  EXTATTR_WEB_TITLE_MAX_CHARS,
  EXTERNAL_ATTR_TEXT_MAX_CHARS,
  EXTERNAL_ATTR_TITLE_MAX_CHARS,
  EXTERNAL_POSITION_MAX_CHARS,
  MOBILE_PATTERN,
  POSITION_MAX_CHARS,
  TELEPHONE_PATTERN,
  USER_DEPARTMENTS_MAX,
  USER_NAME_MAX_CHARS,
  byteLength,
  charLength,
  isValidEmail,
  isValidOrder,
  isValidUserid,
} from 'wecom-protocol/limits';

/**
 * The member write rules of docs/wecom-api.md §3.1, free of HTTP: the member endpoints call them per
 * request and the batch import job per CSV row. A payload is WeCom's JSON member object; a
 * refusal throws `fail(errcode)` before anything is written.
 */

export type UserPayload = Record<string, unknown>;

/**
 * Custom member fields (自定义字段) that exist in the seeded corp's admin console. An `extattr`
 * naming any other field is silently ignored, as WeCom does (§3.1).
 */
export const CUSTOM_FIELD_NAMES: ReadonlySet<string> = new Set(['工号', '个人主页']);

/**
 * The enterprise-mail domain of the seeded corp: `biz_mail` is generated as `<userid>@<domain>`
 * when user/create omits it (§3.1 "auto-generated if omitted"). Matches the seed's addresses.
 */
export const BIZ_MAIL_DOMAIN = 'corp.example.com';

/**
 * `external_profile.wechat_channels.status` after the API sets a nickname: 1 "pending" — the
 * member confirms the channel in WeChat (§3.1 read notes: 0 confirmed, 1 pending). Unconfirmed.
 */
export const WECHAT_CHANNELS_STATUS_AFTER_API_WRITE = 1;

/** Messages of the one parameter code WeCom uses for lengths and shapes without a code of their own. */
const INVALID = 40058;

// ── small readers ───────────────────────────────────────────────────────────

const hash = (text: string, len: number) => createHash('sha256').update(text).digest('hex').slice(0, len);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function maxChars(value: string | undefined, max: number, errcode: number, field: string): void {
  if (value !== undefined && charLength(value) > max) throw fail(errcode, `${field} must be at most ${max} characters`);
}

/**
 * `gender`: "1" male, "2" female. WeCom documents a string and treats it as a number, so 1 and 2
 * mean the same. 0 / "0" is what WeCom's own reads answer for "not set", and what many SDKs send
 * by default: it is taken as "not given" (a new member's gender stays "0", an update leaves the
 * member's gender as it was; WeCom has no way to clear a gender). Anything else is refused.
 */
function readGender(payload: UserPayload): Gender | undefined {
  const v = payload.gender;
  if (v === undefined || v === null || v === 0 || v === '0') return undefined;
  if (v === '1' || v === 1) return '1';
  if (v === '2' || v === 2) return '2';
  throw fail(INVALID, 'gender must be "1" (male), "2" (female), or "0" (not set)');
}

function readEnable(payload: UserPayload): 0 | 1 | undefined {
  const v = bodyBool(payload, 'enable');
  return v === undefined ? undefined : v ? 1 : 0;
}

/** A department list: an int array (41019 otherwise), non-empty, ≤100, existing, visible. */
function readDepartments(store: CorpStore, payload: UserPayload, caller: Caller): number[] | undefined {
  const v = payload.department;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(isInt32)) throw fail(41019, 'department must be an array of department ids');
  const ids = v as number[];
  if (ids.length === 0) throw fail(40066, 'department must not be empty');
  // The docs say 100, error 60110's text says 20; limits.ts records the choice.
  if (ids.length > USER_DEPARTMENTS_MAX) throw fail(60110, `at most ${USER_DEPARTMENTS_MAX} departments`);
  if (new Set(ids).size !== ids.length) throw fail(40066, 'department lists an id twice');
  const missing = ids.find((id) => !store.getDepartment(id));
  if (missing !== undefined) throw fail(40066, `department ${missing} does not exist`);
  const scope = scopeOf(store, caller);
  if (!scope.all && ids.some((id) => !scope.canSeeDepartment(id))) throw fail(60011);
  return [...ids];
}

const isZeroOrOne = (v: unknown): v is number => v === 0 || v === 1;

// ── extattr and external_profile ────────────────────────────────────────────

/** One attribute of `extattr.attrs`: the new value, or null to clear it (empty text / url + title). */
function readCustomAttr(raw: unknown): { name: string; attr: ExtAttr | null } | undefined {
  if (!isPlainObject(raw) || typeof raw.name !== 'string') throw fail(INVALID, 'extattr.attrs items need a name');
  const name = raw.name;
  // Only fields that exist in the admin console take a value; others are silently ignored.
  if (!CUSTOM_FIELD_NAMES.has(name)) return undefined;
  const type = raw.type ?? (raw.web ? 1 : raw.miniprogram ? 2 : 0);
  if (type === 0) {
    // `value` at the top level is the pre-2019 text format.
    const text = isPlainObject(raw.text) ? raw.text.value : raw.value;
    if (text === undefined || text === null || text === '') return { name, attr: null };
    if (typeof text !== 'string') throw fail(INVALID, `extattr ${name}: text.value must be a string`);
    maxChars(text, EXTATTR_TEXT_MAX_CHARS, INVALID, `extattr ${name} text`);
    return { name, attr: { type: 0, name, text: { value: text } } };
  }
  if (type === 1) {
    const web = isPlainObject(raw.web) ? raw.web : {};
    const url = web.url ?? '';
    const title = web.title ?? '';
    if (typeof url !== 'string' || typeof title !== 'string') throw fail(INVALID, `extattr ${name}: web.url and web.title must be strings`);
    if (url === '' && title === '') return { name, attr: null };
    if (!/^https?:\/\//i.test(url)) throw fail(INVALID, `extattr ${name}: web.url must start with http:// or https://`);
    maxChars(title, EXTATTR_WEB_TITLE_MAX_CHARS, INVALID, `extattr ${name} web.title`);
    return { name, attr: { type: 1, name, web: { url, title } } };
  }
  if (type === 2) {
    const mp = isPlainObject(raw.miniprogram) ? raw.miniprogram : {};
    const { appid = '', pagepath = '', title = '' } = mp;
    if (typeof appid !== 'string' || typeof pagepath !== 'string' || typeof title !== 'string') {
      throw fail(INVALID, `extattr ${name}: miniprogram fields must be strings`);
    }
    if (appid === '') return { name, attr: null };
    maxChars(title, EXTATTR_WEB_TITLE_MAX_CHARS, INVALID, `extattr ${name} miniprogram.title`);
    return { name, attr: { type: 2, name, miniprogram: { appid, pagepath, title } } };
  }
  throw fail(INVALID, `extattr ${name}: type must be 0 (text), 1 (web) or 2 (miniprogram)`);
}

/**
 * The attributes after a write: the given ones replace (or clear) the attribute of the same
 * name, in place; attributes not named keep their value.
 */
function readExtAttrs(payload: UserPayload, current: ExtAttr[]): ExtAttr[] | undefined {
  const v = payload.extattr;
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v) || (v.attrs !== undefined && !Array.isArray(v.attrs))) throw fail(INVALID, 'extattr must be {"attrs": [...]}');
  const given = ((v.attrs as unknown[] | undefined) ?? []).map(readCustomAttr).filter((a) => a !== undefined);
  const result = current.map((a) => ({ ...a }));
  for (const { name, attr } of given) {
    const at = result.findIndex((a) => a.name === name);
    if (attr && at >= 0) result[at] = attr;
    else if (attr) result.push(attr);
    else if (at >= 0) result.splice(at, 1);
  }
  return result;
}

/** One `external_attr` item, with the 90100–90106 codes of external attributes. */
function readExternalAttr(raw: unknown): ExtAttr {
  if (!isPlainObject(raw) || typeof raw.name !== 'string' || raw.name === '') throw fail(90106, 'external_attr items need a name');
  const name = raw.name;
  if (raw.type === 0) {
    const value = isPlainObject(raw.text) ? raw.text.value : undefined;
    if (typeof value !== 'string') throw fail(90106, `external_attr ${name}: text.value must be a string`);
    maxChars(value, EXTERNAL_ATTR_TEXT_MAX_CHARS, 90101, `external_attr ${name} text`);
    return { type: 0, name, text: { value } };
  }
  if (raw.type === 1) {
    const web = isPlainObject(raw.web) ? raw.web : {};
    const { url, title = '' } = web;
    if (typeof url !== 'string' || typeof title !== 'string')
      throw fail(90106, `external_attr ${name}: web.url and web.title must be strings`);
    maxChars(title, EXTERNAL_ATTR_TITLE_MAX_CHARS, 90102, `external_attr ${name} web.title`);
    if (!/^https?:\/\/\S+$/i.test(url)) throw fail(90103, `external_attr ${name}: web.url must be an http(s) URL`);
    return { type: 1, name, web: { url, title } };
  }
  if (raw.type === 2) {
    const mp = isPlainObject(raw.miniprogram) ? raw.miniprogram : {};
    const { appid, pagepath, title = '' } = mp;
    if (typeof appid !== 'string' || appid === '' || typeof title !== 'string')
      throw fail(90106, `external_attr ${name}: miniprogram needs an appid`);
    maxChars(title, EXTERNAL_ATTR_TITLE_MAX_CHARS, 90104, `external_attr ${name} miniprogram.title`);
    if (typeof pagepath !== 'string' || pagepath === '' || /\s/.test(pagepath))
      throw fail(90105, `external_attr ${name}: miniprogram.pagepath is invalid`);
    return { type: 2, name, miniprogram: { appid, pagepath, title } };
  }
  throw fail(90100, `external_attr ${name}: type must be 0, 1 or 2`);
}

/** The external profile after a write: the parts given replace the stored ones. */
function readExternalProfile(payload: UserPayload, current: ExternalProfile): ExternalProfile | undefined {
  const v = payload.external_profile;
  const nickname = bodyString(payload, 'nickname');
  if ((v === undefined || v === null) && nickname === undefined) return undefined;
  const next: ExternalProfile = {
    ...current,
    ...(current.wechat_channels ? { wechat_channels: { ...current.wechat_channels } } : {}),
    external_attr: [...(current.external_attr ?? [])],
  };
  let channelNickname = nickname;
  if (v !== undefined && v !== null) {
    if (!isPlainObject(v)) throw fail(90106, 'external_profile must be an object');
    if (v.external_corp_name !== undefined) {
      if (typeof v.external_corp_name !== 'string') throw fail(90106, 'external_corp_name must be a string');
      next.external_corp_name = v.external_corp_name;
    }
    if (v.wechat_channels !== undefined) {
      if (!isPlainObject(v.wechat_channels) || typeof v.wechat_channels.nickname !== 'string') {
        throw fail(90106, 'wechat_channels must be {"nickname": "..."}');
      }
      channelNickname = v.wechat_channels.nickname;
    }
    if (v.external_attr !== undefined) {
      if (!Array.isArray(v.external_attr)) throw fail(90106, 'external_attr must be an array');
      next.external_attr = v.external_attr.map(readExternalAttr);
    }
  }
  if (channelNickname !== undefined && channelNickname !== current.wechat_channels?.nickname) {
    // An empty nickname unbinds the channel.
    if (channelNickname === '') delete next.wechat_channels;
    else next.wechat_channels = { nickname: channelNickname, status: WECHAT_CHANNELS_STATUS_AFTER_API_WRITE };
  }
  return next;
}

// ── the validator ───────────────────────────────────────────────────────────

/** A userid a payload names: 41009 when absent or empty, 40003 when malformed. */
export function readUserid(payload: UserPayload, field = 'userid'): string {
  const userid = bodyString(payload, field, 40003);
  if (userid === undefined || userid === '') throw fail(41009, `${field} missing`);
  if (!isValidUserid(userid)) {
    throw fail(40003, `${field} must be 1–64 bytes of letters, digits, _ - @ . starting with a letter or digit`);
  }
  return userid;
}

/** What every rule group reads: the payload and, on update, the member as stored. */
interface UserWrite {
  store: CorpStore;
  payload: UserPayload;
  caller: Caller;
  /** The member before the update; undefined on create. */
  current: User | undefined;
  clock: Clock;
  /** Whether `other` is a member other than the one written (userids ignore case). */
  takenByOther: (other: User | undefined) => boolean;
}

/**
 * Validates a create (`current` undefined) or update payload and returns the member as it would
 * be stored. Reads the store, writes nothing (it only takes a creation sequence number). The rule
 * groups run in this order, which is the order WeCom reports errcodes in.
 */
function resolveUser(store: CorpStore, payload: UserPayload, caller: Caller, current: User | undefined, clock: Clock): User {
  const selfKey = current ? userKey(current.userid) : undefined;
  const takenByOther = (other: User | undefined) => other !== undefined && userKey(other.userid) !== selfKey;
  const write: UserWrite = { store, payload, caller, current, clock, takenByOther };

  const identity = resolveIdentity(write);
  const names = resolveNames(write);
  const contact = resolveContact(write);
  const placement = resolvePlacement(write);
  const directLeaders = resolveDirectLeaders(write);
  const profile = resolveProfile(write);
  const attributes = resolveAttributes(write);
  const enable = resolveAccountFlags(write);
  const avatar = resolveAvatar(write);
  checkDepartmentCapacity(write, placement.department);

  const fields = { ...identity, ...names, ...contact, ...placement, direct_leader: directLeaders, ...profile, ...attributes, avatar };
  if (current === undefined) return createdUser(store, fields, enable);
  const next = updatedUser(current, fields);
  applyEnable(next, current, enable);
  return next;
}

type ResolvedFields = ReturnType<typeof resolveIdentity> &
  ReturnType<typeof resolveNames> &
  ReturnType<typeof resolveContact> &
  ReturnType<typeof resolvePlacement> &
  ReturnType<typeof resolveProfile> &
  ReturnType<typeof resolveAttributes> & { direct_leader: string[]; avatar: ReturnType<typeof resolveAvatar> };

/** userid / new_userid (40003, 60102, 301036). */
function resolveIdentity({ store, payload, current, takenByOther }: UserWrite): { userid: string; useridChanged: boolean } {
  if (current === undefined) {
    const userid = readUserid(payload);
    if (store.getUser(userid)) throw fail(60102, `userid ${userid} exists (userids ignore case)`);
    return { userid, useridChanged: false };
  }
  const wanted = bodyString(payload, 'new_userid', 40003);
  if (wanted === undefined || wanted === '' || wanted === current.userid) {
    return { userid: current.userid, useridChanged: current.userid_changed ?? false };
  }
  // Changeable once, and only when WeCom generated the userid (§3.1).
  if (!current.userid_system_generated || current.userid_changed) {
    throw fail(301036, 'the userid was not system-generated or was already changed once');
  }
  const userid = readUserid(payload, 'new_userid');
  if (takenByOther(store.getUser(userid))) throw fail(60102, `userid ${userid} exists (userids ignore case)`);
  return { userid, useridChanged: true };
}

/** name (60112), alias. */
function resolveNames({ payload, current }: UserWrite): { name: string | undefined; alias: string | undefined } {
  const name = bodyString(payload, 'name', 60112);
  if (current === undefined && name === undefined) throw fail(60112, 'name missing');
  if (name !== undefined && (name.trim() === '' || charLength(name) > USER_NAME_MAX_CHARS)) {
    throw fail(60112, `name must be 1–${USER_NAME_MAX_CHARS} characters`);
  }
  const alias = bodyString(payload, 'alias');
  maxChars(alias, ALIAS_MAX_CHARS, INVALID, 'alias');
  return { name, alias };
}

/** mobile (60103, 60104), email (60105, 60106), biz_mail (60143, 60145), and 60129. */
function resolveContact({ store, payload, current, takenByOther }: UserWrite) {
  const creating = current === undefined;
  // mobile: silently ignored on update for a member who activated WeCom (§3.1).
  const mobileIgnored = !creating && current.status === 1;
  const mobile = mobileIgnored ? undefined : bodyString(payload, 'mobile', 60103);
  if (mobile) {
    if (!MOBILE_PATTERN.test(mobile) || !/\d/.test(mobile)) throw fail(60103, 'mobile: at most 32 digits, +, -');
    // "+86 138…" and "138…" are the same phone.
    if (takenByOther(store.userByMobile(mobile))) throw fail(60104, `mobile ${normaliseMobile(mobile)} exists`);
  }

  const email = bodyString(payload, 'email', 60105);
  if (email) {
    if (!isValidEmail(email)) throw fail(60105, 'email: 6–64 bytes, a valid address');
    if (takenByOther(store.userByEmail(email))) throw fail(60106, `email ${email} exists`);
  }

  // An empty biz_mail keeps the current one.
  const bizMail = bodyString(payload, 'biz_mail', 60143);
  if (bizMail) {
    if (!isValidEmail(bizMail)) throw fail(60143, 'biz_mail: 6–64 bytes, a valid address');
    if (takenByOther(store.userByBizMail(bizMail))) throw fail(60145, `biz_mail ${bizMail} exists`);
  }

  // 60129: a member keeps a mobile or an email.
  const finalMobile = mobile ?? current?.mobile ?? '';
  const finalEmail = email ?? current?.email ?? '';
  if ((creating || mobile !== undefined || email !== undefined) && !finalMobile && !finalEmail) {
    throw fail(60129, 'mobile and email must not both be empty');
  }
  return { mobile: finalMobile, email: finalEmail, bizMail };
}

/** department (41019, 40066, 60110, 60011), order (40058), is_leader_in_dept (60132), main_department (40058). */
function resolvePlacement({ store, payload, caller, current }: UserWrite) {
  const departments = readDepartments(store, payload, caller);
  if (current === undefined && departments === undefined) throw fail(41019, 'department missing');
  const finalDepartments = departments ?? current!.department;
  let order: number[];
  let leaderFlags: number[];
  const givenLeaders = bodyArray(payload, 'is_leader_in_dept', isZeroOrOne, INVALID);
  if (givenLeaders && givenLeaders.length !== finalDepartments.length) {
    throw fail(60132, 'is_leader_in_dept must have as many items as department');
  }
  if (departments) {
    // `order` is honoured only together with `department` (§3.2 update quirks).
    const givenOrder = bodyArray(payload, 'order', isValidOrder, INVALID);
    if (givenOrder && givenOrder.length !== departments.length) throw fail(INVALID, 'order must have as many items as department');
    const previousOrder = (d: number) => (current ? (current.order[current.department.indexOf(d)] ?? 0) : 0);
    const previousFlag = (d: number) => (current ? (current.is_leader_in_dept[current.department.indexOf(d)] ?? 0) : 0);
    order = givenOrder ? [...givenOrder] : departments.map(previousOrder);
    leaderFlags = givenLeaders ? [...givenLeaders] : departments.map(previousFlag);
  } else {
    order = [...current!.order];
    leaderFlags = givenLeaders ? [...givenLeaders] : [...current!.is_leader_in_dept];
  }

  // main_department must be one of the member's departments. 0 is no department id (the root is
  // 1) and is what SDKs send for "not set": it is taken as not given, like gender 0.
  const mainField = bodyInt(payload, 'main_department', INVALID);
  const givenMain = mainField === 0 ? undefined : mainField;
  if (givenMain !== undefined && !finalDepartments.includes(givenMain)) {
    throw fail(INVALID, 'main_department must be one of department');
  }
  const mainDepartment =
    givenMain ?? (current && finalDepartments.includes(current.main_department) ? current.main_department : finalDepartments[0]!);
  return { department: finalDepartments, order, is_leader_in_dept: leaderFlags, main_department: mainDepartment };
}

/** direct_leader: at most 5 existing members (40058, 60111). */
function resolveDirectLeaders({ store, payload, current }: UserWrite): string[] {
  const leaders = bodyArray(payload, 'direct_leader', isString, INVALID);
  if (!leaders) return current ? [...current.direct_leader] : [];
  if (leaders.length > DIRECT_LEADERS_MAX) throw fail(INVALID, `at most ${DIRECT_LEADERS_MAX} direct leaders`);
  const seen = new Set<string>();
  const directLeaders: string[] = [];
  for (const id of leaders) {
    const leader = store.getUser(id);
    if (!leader) throw fail(60111, `direct leader ${id} not found`);
    if (seen.has(userKey(id))) continue;
    seen.add(userKey(id));
    directLeaders.push(leader.userid);
  }
  return directLeaders;
}

/** The plain text fields: position (301012), telephone (301013), gender, english_name (301014), address, external_position. */
function resolveProfile({ payload }: UserWrite) {
  const position = bodyString(payload, 'position', 301012);
  maxChars(position, POSITION_MAX_CHARS, 301012, 'position');
  const telephone = bodyString(payload, 'telephone', 301013);
  if (telephone && !TELEPHONE_PATTERN.test(telephone)) throw fail(301013, 'telephone: at most 32 digits, -, +, ,');
  const gender = readGender(payload);
  const englishName = bodyString(payload, 'english_name', 301014);
  if (englishName !== undefined && (!ENGLISH_NAME_PATTERN.test(englishName) || byteLength(englishName) > ENGLISH_NAME_MAX_BYTES)) {
    throw fail(301014, 'english_name: 1–64 bytes of letters, digits, . - _ and spaces');
  }
  const address = bodyString(payload, 'address');
  maxChars(address, ADDRESS_MAX_CHARS, INVALID, 'address');
  const externalPosition = bodyString(payload, 'external_position');
  maxChars(externalPosition, EXTERNAL_POSITION_MAX_CHARS, INVALID, 'external_position');
  return { position, telephone, gender, englishName, address, externalPosition };
}

/** extattr and external_profile (merged into the current ones on update). */
function resolveAttributes({ payload, current }: UserWrite) {
  const attrs = readExtAttrs(payload, current?.extattr.attrs ?? []);
  const externalProfile = readExternalProfile(payload, current?.external_profile ?? { external_attr: [] });
  return { attrs, externalProfile };
}

/** enable, and to_invite on create (checked for its type, nothing to store). */
function resolveAccountFlags({ payload, current }: UserWrite): 0 | 1 | undefined {
  const enable = readEnable(payload);
  if (current === undefined) bodyBool(payload, 'to_invite');
  return enable;
}

/** avatar_mediaid (301015): a live image from media/upload. */
function resolveAvatar({ store, payload, current, clock }: UserWrite): Pick<User, 'avatar' | 'thumb_avatar' | 'avatar_mediaid'> {
  const mediaId = bodyString(payload, 'avatar_mediaid', 301015);
  if (!mediaId) {
    return current
      ? { avatar: current.avatar, thumb_avatar: current.thumb_avatar, avatar_mediaid: current.avatar_mediaid }
      : { avatar: '', thumb_avatar: '', avatar_mediaid: '' };
  }
  avatarImage({ store, clock }, mediaId);
  const base = `https://wework.qpic.cn/wwhead/${hash(`${store.corpId}:${mediaId}`, 24)}`;
  return { avatar: `${base}/0`, thumb_avatar: `${base}/100`, avatar_mediaid: mediaId };
}

/** 81001: each department the member joins holds at most 30,000 nodes. */
function checkDepartmentCapacity({ store, current }: UserWrite, departments: readonly number[]): void {
  for (const d of departments) {
    if (current?.department.includes(d)) continue;
    if (store.childNodeCount(d) >= DEPARTMENT_CHILD_NODES_MAX)
      throw fail(81001, `department ${d} already holds ${DEPARTMENT_CHILD_NODES_MAX} nodes`);
  }
}

/** A new member from validated fields: defaults for what the payload left out. */
function createdUser(store: CorpStore, f: ResolvedFields, enable: 0 | 1 | undefined): User {
  return {
    userid: f.userid,
    name: f.name!,
    alias: f.alias ?? '',
    mobile: f.mobile,
    email: f.email,
    biz_mail: f.bizMail || generatedBizMail(store, f.userid),
    department: f.department,
    order: f.order,
    is_leader_in_dept: f.is_leader_in_dept,
    direct_leader: f.direct_leader,
    position: f.position ?? '',
    gender: f.gender ?? '0',
    telephone: f.telephone ?? '',
    address: f.address ?? '',
    ...f.avatar,
    enable: enable ?? 1,
    status: enable === 0 ? 2 : 4,
    extattr: { attrs: f.attrs ?? [] },
    external_position: f.externalPosition ?? '',
    external_profile: f.externalProfile ?? { external_attr: [] },
    main_department: f.main_department,
    open_userid: `wo${hash(`${store.corpId}:open:${userKey(f.userid)}`, 30)}`,
    qr_code: `https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=${hash(`${store.corpId}:qr:${userKey(f.userid)}`, 16)}`,
    english_name: f.englishName ?? '',
    openid: '',
    userid_system_generated: false,
    userid_changed: false,
    created_seq: store.nextSeq(),
    is_creator: false,
  };
}

/** `current` with the validated fields applied; what the payload left out stays as it was. */
function updatedUser(current: User, f: ResolvedFields): User {
  return {
    ...current,
    userid: f.userid,
    userid_changed: f.useridChanged,
    name: f.name ?? current.name,
    alias: f.alias ?? current.alias,
    mobile: f.mobile,
    email: f.email,
    biz_mail: f.bizMail || current.biz_mail,
    department: [...f.department],
    order: f.order,
    is_leader_in_dept: f.is_leader_in_dept,
    direct_leader: f.direct_leader,
    position: f.position ?? current.position,
    gender: f.gender ?? current.gender,
    telephone: f.telephone ?? current.telephone,
    address: f.address ?? current.address,
    ...f.avatar,
    extattr: { attrs: f.attrs ?? current.extattr.attrs.map((a) => ({ ...a })) },
    external_position: f.externalPosition ?? current.external_position,
    external_profile: f.externalProfile ?? current.external_profile,
    main_department: f.main_department,
    english_name: f.englishName ?? current.english_name,
  };
}

/** `enable`: 0 disables (status 2); 1 re-enables a disabled member as activated (1) or not (4). */
function applyEnable(next: User, current: User, enable: 0 | 1 | undefined): void {
  if (enable === 0 && current.status !== 2) {
    next.enable = 0;
    next.status = 2;
    next.was_activated = current.status === 1 || current.was_activated === true;
  } else if (enable === 1 && current.status === 2) {
    next.enable = 1;
    next.status = current.was_activated ? 1 : 4;
    delete next.was_activated;
  }
}

/** `<userid>@<domain>`, with a number added when someone already holds that address. */
function generatedBizMail(store: CorpStore, userid: string): string {
  const local = userid.toLowerCase();
  for (let n = 1; ; n++) {
    const candidate = `${n === 1 ? local : `${local}${n}`}@${BIZ_MAIL_DOMAIN}`;
    if (!isValidEmail(candidate)) return ''; // too long for a mailbox: the member gets none
    if (!store.userByBizMail(candidate)) return candidate;
  }
}

/**
 * Validates a user/create payload: the member as it would be stored, or `fail(...)`. `clock` is
 * the emulator's clock (an avatar's media_id expires after 3 days); real time when omitted.
 * Rows of an import are validated against the store as it stands, so apply each before the next.
 */
export function validateUserCreate(store: CorpStore, payload: UserPayload, caller: Caller, clock = new Clock()): User {
  return resolveUser(store, payload, caller, undefined, clock);
}

/** Validates a user/update payload for `current`: the member after the update, or `fail(...)`. */
export function validateUserUpdate(store: CorpStore, current: User, payload: UserPayload, caller: Caller, clock = new Clock()): User {
  return resolveUser(store, payload, caller, current, clock);
}

// ── writes ──────────────────────────────────────────────────────────────────

/** The member a write names: 41009 / 40003 for a bad userid, 60111 when unknown or not visible. */
export function existingUser(store: CorpStore, payload: UserPayload, caller: Caller, field = 'userid'): User {
  const user = store.getUser(readUserid(payload, field));
  const scope = scopeOf(store, caller);
  if (!user || !scope.canSeeUser(user)) throw fail(60111);
  return user;
}

function leaderDepartments(user: User | undefined): Set<number> {
  const out = new Set<number>();
  user?.department.forEach((d, i) => {
    if (user.is_leader_in_dept[i] === 1) out.add(d);
  });
  return out;
}

/**
 * Keeps `department.department_leader` in step with the member's `is_leader_in_dept` (both
 * sides of 部门负责人), including a userid change; `after` undefined means deleted.
 */
function syncDepartmentLeaders(store: CorpStore, before: User | undefined, after: User | undefined): void {
  const was = leaderDepartments(before);
  const is = leaderDepartments(after);
  const keys = new Set([before, after].filter((u) => u !== undefined).map((u) => userKey(u.userid)));
  for (const id of new Set([...was, ...is])) {
    const dept = store.getDepartment(id);
    if (!dept) continue;
    const leaders: string[] = [];
    let placed = false;
    for (const leader of dept.department_leader) {
      if (!keys.has(userKey(leader))) leaders.push(leader);
      else if (is.has(id) && !placed) {
        leaders.push(after!.userid);
        placed = true;
      }
    }
    if (is.has(id) && !placed) leaders.push(after!.userid);
    if (leaders.join('\n') !== dept.department_leader.join('\n')) store.putDepartment({ ...dept, department_leader: leaders });
  }
}

/**
 * Rewrites the references other records hold to members: `direct_leader` of other members and
 * the apps' visible-member lists. `renamed` maps old keys to new userids (null: deleted).
 * One pass over the members, whatever the number of changes.
 */
function rewriteMemberReferences(store: CorpStore, renamed: Map<string, string | null>): void {
  const changed: User[] = [];
  for (const user of store.users.values()) {
    if (!user.direct_leader.some((l) => renamed.has(userKey(l)))) continue;
    const direct_leader = user.direct_leader
      .map((l) => (renamed.has(userKey(l)) ? renamed.get(userKey(l)) : l))
      .filter((l): l is string => typeof l === 'string');
    changed.push({ ...user, direct_leader });
  }
  for (const user of changed) store.putUser(user);
  for (const app of store.apps) {
    if (!app.visibility.users.some((u) => renamed.has(userKey(u)))) continue;
    app.visibility.users = app.visibility.users
      .map((u) => (renamed.has(userKey(u)) ? renamed.get(userKey(u)) : u))
      .filter((u): u is string => typeof u === 'string');
    store.touch();
  }
}

export interface UserCreated {
  user: User;
  events: ChangeEvent[];
}

export interface UserUpdated {
  before: User;
  user: User;
  /** An update_user event when anything changed; empty when the update changed nothing. */
  events: ChangeEvent[];
}

export interface UsersDeleted {
  users: User[];
  events: ChangeEvent[];
}

/** user/create: validates, stores, keeps department heads in step; returns the create_user event. */
export function applyUserCreate(store: CorpStore, payload: UserPayload, caller: Caller, clock = new Clock()): UserCreated {
  const user = validateUserCreate(store, payload, caller, clock);
  store.putUser(user);
  syncDepartmentLeaders(store, undefined, user);
  return { user, events: [{ ChangeType: 'create_user', UserID: user.userid, ...userEventFields(user) }] };
}

/** user/update: validates against the stored member, stores, and returns the update_user event. */
export function applyUserUpdate(store: CorpStore, payload: UserPayload, caller: Caller, clock = new Clock()): UserUpdated {
  const before = existingUser(store, payload, caller);
  const user = validateUserUpdate(store, before, payload, caller, clock);
  store.putUser(user, before.userid);
  syncDepartmentLeaders(store, before, user);
  const renamed = user.userid !== before.userid;
  if (renamed) rewriteMemberReferences(store, new Map([[userKey(before.userid), user.userid]]));
  const changed = changedEventFields(before, user);
  const anything = renamed || JSON.stringify(before) !== JSON.stringify(user);
  const events: ChangeEvent[] = anything
    ? [{ ChangeType: 'update_user', UserID: before.userid, ...(renamed ? { NewUserID: user.userid } : {}), ...changed }]
    : [];
  return { before, user, events };
}

/**
 * user/delete and user/batchdelete: every userid must name a visible member (60111) other than
 * the corp creator (301005), or nothing is deleted. Removes the members from tags, department
 * heads, others' direct leaders and app visibility.
 */
export function applyUserDelete(store: CorpStore, userids: readonly string[], caller: Caller): UsersDeleted {
  const scope = scopeOf(store, caller);
  const users: User[] = [];
  const seen = new Set<string>();
  for (const id of userids) {
    const user = store.getUser(id);
    if (!user || !scope.canSeeUser(user)) throw fail(60111, `userid ${id} not found`);
    if (user.is_creator) throw fail(301005, `${user.userid} created the corp`);
    if (seen.has(userKey(user.userid))) continue;
    seen.add(userKey(user.userid));
    users.push(user);
  }
  for (const user of users) {
    store.removeUser(user.userid);
    syncDepartmentLeaders(store, user, undefined);
  }
  rewriteMemberReferences(store, new Map(users.map((u) => [userKey(u.userid), null])));
  return { users, events: users.map((u) => ({ ChangeType: 'delete_user', UserID: u.userid })) };
}
