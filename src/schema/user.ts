import { userKey } from 'wecom-protocol/userid';
import { builder } from './builder.ts';
import { DepartmentRef, TagRef, UserRef } from './refs.ts';
import { present } from './department.ts';
import { badInput } from './graphql-errors.ts';
import type { ExtAttr, WeComUser } from '../wecom/users.ts';
import { nullWhenMissing } from '../directory/source.ts';
import { WeComApiError } from '../wecom/errors.ts';
import { PII, PII_LOOKUP } from './pii.ts';
import { isValidUserid } from 'wecom-protocol/limits';
import { yieldIfBusy } from '../ops/yield.ts';

/** Lists of ids a caller may pass at once (users(userids:)). */
export const MAX_USERIDS_PER_QUERY = 200;

/**
 * A userid WeCom could have (§3.1), or BAD_USER_INPUT before any upstream call: no lookup of
 * `a&access_token=…`, `../x`, NUL bytes or 65-byte ids ever reaches WeCom.
 */
function readableUserid(userid: string, field: string): string {
  if (!isValidUserid(userid))
    throw badInput(`${field}: not a WeCom userid (1–64 bytes of letters, digits, _ - @ . starting with a letter or digit)`, field);
  return userid;
}

export const Gender = builder.enumType('Gender', {
  description: 'Gender as WeCom records it.',
  values: {
    MALE: { value: '1', description: 'Male (WeCom "1").' },
    FEMALE: { value: '2', description: 'Female (WeCom "2").' },
    UNSPECIFIED: { value: '0', description: 'Not set, or not available to this service.' },
  } as const,
});

export const UserStatus = builder.enumType('UserStatus', {
  description: "A member's account state in WeCom (user/get `status`); read-only: `enable` on updateUser disables or re-enables.",
  values: {
    ACTIVE: { value: 1, description: 'Activated (已激活).' },
    DISABLED: { value: 2, description: 'Disabled (已禁用).' },
    NOT_ACTIVATED: { value: 4, description: 'Invited but not yet activated (未激活).' },
    LEFT: { value: 5, description: 'Left the corp (退出企业).' },
  } as const,
});

const AttributeType = builder.enumType('AttributeType', {
  description: 'Kind of a custom attribute (extattr `type`): which of its value fields are set.',
  values: {
    TEXT: { value: 0, description: 'Plain text: `text` holds the value.' },
    WEB: { value: 1, description: 'A web link: `url` and `title`.' },
    MINIPROGRAM: { value: 2, description: 'A WeChat mini program: `appId`, `pagePath` and `title`.' },
  } as const,
});

const UserAttribute = builder.objectRef<ExtAttr>('UserAttribute').implement({
  description: 'A custom attribute (extattr) configured in the WeCom admin console.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Attribute name as configured in the admin console (e.g. "工号").' }),
    type: t.field({ type: AttributeType, description: 'Which of the value fields below are set.', resolve: (a) => a.type }),
    text: t.string({ nullable: true, description: 'Value of a TEXT attribute.', resolve: (a) => a.text?.value ?? null }),
    url: t.string({ nullable: true, description: 'Link of a WEB attribute.', resolve: (a) => a.web?.url ?? null }),
    title: t.string({
      nullable: true,
      description: 'Title of a WEB or MINIPROGRAM attribute.',
      resolve: (a) => a.web?.title ?? a.miniprogram?.title ?? null,
    }),
    appId: t.string({ nullable: true, description: 'Mini program app id.', resolve: (a) => a.miniprogram?.appid ?? null }),
    pagePath: t.string({ nullable: true, description: 'Mini program page path.', resolve: (a) => a.miniprogram?.pagepath ?? null }),
  }),
});

interface Membership {
  user: WeComUser;
  departmentId: number;
  order: number;
  isLeader: boolean;
}

const MembershipRef = builder.objectRef<Membership>('Membership').implement({
  description: "A member's place in one department.",
  fields: (t) => ({
    departmentId: t.exposeInt('departmentId', { description: 'WeCom id of the department; set even when `department` is null.' }),
    department: t.field({
      type: DepartmentRef,
      nullable: true,
      description: 'Null when the department is outside what this service may see.',
      resolve: async (m, _args, ctx) => (await ctx.loaders.tree()).get(m.departmentId) ?? null,
    }),
    order: t.field({ type: 'WeComOrder', description: 'Sort order within the department; larger first.', resolve: (m) => m.order }),
    isLeader: t.exposeBoolean('isLeader', { description: 'Head of this department (部门负责人).' }),
  }),
});

const ExternalProfile = builder.objectRef<NonNullable<WeComUser['externalProfile']>>('ExternalProfile').implement({
  description: 'What external contacts see of the member (对外信息).',
  fields: (t) => ({
    externalCorpName: t.string({
      nullable: true,
      description: 'Corp short name shown to external contacts (external_corp_name); null when not set.',
      resolve: (p) => p.externalCorpName || null,
    }),
    wechatChannelsNickname: t.string({
      nullable: true,
      description: 'WeChat Channels (视频号) name shown on the profile; null when not set.',
      resolve: (p) => p.wechatChannels?.nickname || null,
    }),
    attributes: t.field({
      type: [UserAttribute],
      description: 'External attributes (external_attr), in admin-console order; empty when none.',
      resolve: (p) => p.externalAttr ?? [],
    }),
  }),
});

/** Text fields WeCom may leave out (not set, or withheld from this app since 2022): null then. */
const optional = (value: string | undefined) => (value ? value : null);

builder.node(UserRef, {
  description: 'A member (成员) of the corp.',
  id: {
    description: 'Global id (Relay) of the member, for `Query.node`; opaque, not the userid (use `userid` for WeCom).',
    resolve: (u) => u.userid,
  },
  loadOne: (userid, ctx) => ctx.loaders.user.load(userid),
  fields: (t) => ({
    userid: t.exposeString('userid', { description: 'WeCom userid (case-insensitive).' }),
    name: t.exposeString('name', {
      description: 'Display name (1–64 characters). Third-party apps get the userid here (WeCom withholds names from them).',
    }),
    alias: t.string({
      nullable: true,
      description: 'Alias (别名), at most 64 characters; null when not set.',
      resolve: (u) => optional(u.alias),
    }),
    englishName: t.string({
      nullable: true,
      description: 'Legacy English name some corps still use.',
      resolve: (u) => optional(u.englishName),
    }),
    position: t.string({
      nullable: true,
      description: 'Job title (职务), at most 128 characters; null when not set.',
      resolve: (u) => optional(u.position),
    }),
    gender: t.field({
      ...PII,
      type: Gender,
      nullable: true,
      description: 'Null when WeCom withholds it (apps created after 2022-06-20).',
      resolve: (u) => u.gender ?? null,
    }),
    status: t.field({
      type: UserStatus,
      nullable: true,
      description: 'Account state (activated, disabled, not activated, left); null when WeCom does not return it.',
      resolve: (u) => u.status ?? null,
    }),
    mobile: t.string({
      ...PII,
      nullable: true,
      description: 'PII. Null when not set or withheld by WeCom.',
      resolve: (u) => optional(u.mobile),
    }),
    email: t.string({
      ...PII,
      nullable: true,
      description: 'PII. Null when not set or withheld by WeCom.',
      resolve: (u) => optional(u.email),
    }),
    bizMail: t.string({ ...PII, nullable: true, description: 'Enterprise mailbox. PII.', resolve: (u) => optional(u.bizMail) }),
    telephone: t.string({ ...PII, nullable: true, description: 'Desk phone. PII.', resolve: (u) => optional(u.telephone) }),
    address: t.string({
      ...PII,
      nullable: true,
      description: 'PII. Null when not set or withheld by WeCom.',
      resolve: (u) => optional(u.address),
    }),
    avatar: t.string({ ...PII, nullable: true, description: 'Avatar URL. PII.', resolve: (u) => optional(u.avatar) }),
    thumbAvatar: t.string({ ...PII, nullable: true, description: 'Small avatar URL. PII.', resolve: (u) => optional(u.thumbAvatar) }),
    qrCode: t.string({ ...PII, nullable: true, description: 'Personal QR code URL. PII.', resolve: (u) => optional(u.qrCode) }),
    openUserid: t.string({
      nullable: true,
      description: 'Service-provider-wide id (third-party apps only).',
      resolve: (u) => optional(u.openUserid),
    }),
    externalPosition: t.string({
      nullable: true,
      description: 'Job title shown to external contacts instead of `position` (at most 12 characters); null when not set.',
      resolve: (u) => optional(u.externalPosition),
    }),
    externalProfile: t.field({
      ...PII,
      type: ExternalProfile,
      nullable: true,
      description: 'What external contacts see of the member (external_profile); null when WeCom returns none.',
      resolve: (u) => u.externalProfile ?? null,
    }),
    // Personal too (employee numbers, home pages): empty without directory:pii.
    extAttrs: t.field({
      authScopes: { pii: true },
      unauthorizedResolver: () => [],
      type: [UserAttribute],
      description: 'Custom attributes.',
      resolve: (u) => u.extattr?.attrs ?? [],
    }),
    memberships: t.field({
      type: [MembershipRef],
      description: 'Departments the member belongs to, with order and head flag per department.',
      resolve: (u) =>
        u.department.map((departmentId, i) => ({ user: u, departmentId, order: u.order[i] ?? 0, isLeader: u.isLeaderInDept[i] === 1 })),
    }),
    departments: t.field({
      type: [DepartmentRef],
      description:
        'Departments the member belongs to, in WeCom order; only those this service can see (see `memberships` for order and head flags).',
      resolve: async (u, _args, ctx) => {
        // Asked for every member of a big list: let other requests in between (src/ops/yield.ts).
        await yieldIfBusy();
        const tree = await ctx.loaders.tree();
        return u.department.flatMap((id) => tree.get(id) ?? []);
      },
    }),
    mainDepartment: t.field({
      type: DepartmentRef,
      nullable: true,
      description: 'Main department (main_department); null when not set or not visible to this service.',
      resolve: async (u, _args, ctx) => (u.mainDepartment ? ((await ctx.loaders.tree()).get(u.mainDepartment) ?? null) : null),
    }),
    directLeaders: t.field({
      type: [UserRef],
      description: 'Direct superiors (直属上级).',
      resolve: async (u, _args, ctx) => present(await ctx.loaders.user.loadMany(u.directLeader)),
    }),
    directReports: t.field({
      type: [UserRef],
      description: 'Members whose direct superior this member is (derived from everyone else’s directLeaders).',
      resolve: (u, _args, ctx) => ctx.loaders.directReports(u.userid),
    }),
    tags: t.field({
      type: [TagRef],
      description: "Tags listing this member or one of the member's departments.",
      resolve: async (u, _args, ctx) => {
        const [index, tags] = await Promise.all([ctx.loaders.tagIndex(), ctx.loaders.tags()]);
        const ids = new Set(index.byUser.get(userKey(u.userid)) ?? []);
        for (const d of u.department) for (const id of index.byDepartment.get(d) ?? []) ids.add(id);
        return tags.filter((t) => ids.has(t.tagid));
      },
    }),
    openId: t.string({
      ...PII,
      nullable: true,
      description: 'WeChat openid (user/convert_to_openid); null when the member has not bound WeChat.',
      resolve: async (u, _args, ctx) => {
        // Remembered across requests: each member's openid costs WeCom one call, not one per ask.
        return ctx.memo.openId(u.userid, async () => {
          try {
            return await ctx.client.users.convertToOpenid(u.userid);
          } catch (err) {
            // 43004: not bound to WeChat / plug-in not followed: there is no openid to give.
            if (err instanceof WeComApiError && err.errcode === 43004) return null;
            throw err;
          }
        });
      },
    }),
  }),
});

const EmailType = builder.enumType('EmailType', {
  description: 'Which email a lookup matches (user/get_userid_by_email `email_type`).',
  values: {
    BIZ_MAIL: { value: 1, description: 'Enterprise mailbox (biz_mail).' },
    PERSONAL: { value: 2, description: 'Personal email.' },
  } as const,
});

builder.queryFields((t) => ({
  user: t.field({
    type: UserRef,
    nullable: true,
    description: 'A member by userid (case-insensitive); null when it does not exist or is not visible.',
    args: {
      userid: t.arg.string({ required: true, description: 'WeCom userid, any case; BAD_USER_INPUT when it is not a possible userid.' }),
    },
    resolve: (_root, { userid }, ctx) => ctx.loaders.user.load(readableUserid(userid, 'userid')),
  }),
  users: t.field({
    type: [UserRef],
    nullable: { list: false, items: true },
    description: `Members by userid, in the order asked (null for each one missing); at most ${MAX_USERIDS_PER_QUERY}.`,
    args: { userids: t.arg.stringList({ required: true, description: `WeCom userids, any case; at most ${MAX_USERIDS_PER_QUERY}.` }) },
    resolve: async (_root, { userids }, ctx) => {
      if (userids.length > MAX_USERIDS_PER_QUERY) throw badInput(`userids: at most ${MAX_USERIDS_PER_QUERY} per query`, 'userids');
      for (const [i, userid] of userids.entries()) readableUserid(userid, `userids[${i}]`);
      const loaded = await ctx.loaders.user.loadMany(userids);
      return loaded.map((u) => {
        if (u instanceof Error) throw u;
        return u;
      });
    },
  }),
  userByMobile: t.field({
    ...PII_LOOKUP,
    type: UserRef,
    nullable: true,
    description:
      'The member with this mobile number (user/getuserid); null when no visible member has it. Needs `directory:pii`. ' +
      'WeCom blocks this lookup for a day when misses exceed about 20% of the corp size.',
    args: {
      mobile: t.arg.string({ required: true, description: 'Mobile number as stored in WeCom, e.g. "13800000000" or "+86 13800000000".' }),
    },
    resolve: async (_root, { mobile }, ctx) => {
      const userid = await nullWhenMissing(ctx.client.users.getUseridByMobile(mobile));
      return userid ? ctx.loaders.user.load(userid) : null;
    },
  }),
  userByEmail: t.field({
    ...PII_LOOKUP,
    type: UserRef,
    nullable: true,
    description:
      'The member with this email (user/get_userid_by_email); null when no visible member has it. Needs `directory:pii`. ' +
      'WeCom blocks this lookup for a day when misses exceed about 20% of the seat cap.',
    args: {
      email: t.arg.string({ required: true, description: 'The email address to look up.' }),
      type: t.arg({ type: EmailType, defaultValue: 1, description: 'Enterprise mailbox (default) or personal email.' }),
    },
    resolve: async (_root, { email, type }, ctx) => {
      const userid = await nullWhenMissing(ctx.client.users.getUseridByEmail(email, { emailType: type ?? undefined }));
      return userid ? ctx.loaders.user.load(userid) : null;
    },
  }),
  userByOpenId: t.field({
    ...PII_LOOKUP,
    type: UserRef,
    nullable: true,
    description:
      'The member behind a WeChat openid (user/convert_to_userid), e.g. from WeChat Pay; null when unknown or not visible. Needs `directory:pii`.',
    args: { openId: t.arg.string({ required: true, description: 'WeChat openid, as `User.openId` gives it.' }) },
    resolve: async (_root, { openId }, ctx) => {
      const userid = await nullWhenMissing(ctx.client.users.convertToUserid(openId));
      return userid ? ctx.loaders.user.load(userid) : null;
    },
  }),
}));
