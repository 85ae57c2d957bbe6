import type { DirectorySource } from '../directory/source.ts';
import type { ExtAttr, ExternalProfile, WeComUser } from '../wecom/users.ts';

/**
 * Members as the directory cache keeps them: 50,000 of them stay in memory for the TTL, so each
 * holds what the schema reads and nothing twice.
 *
 * - One fixed shape (every object built by the same literal): fields in the object itself, no
 *   growing property store; empty strings and empty lists become `undefined` (the schema shows
 *   both as null or []).
 * - Values many members share are stored once: names (a corp has far fewer names than members),
 *   positions, addresses, department lists, leader lists, extended-attribute names, the external
 *   profile. JSON.parse makes a new string for every occurrence; the interner keeps the first.
 * - Fields no resolver reads (`enable`, and anything else WeCom adds) are left out.
 *
 * Shared values are frozen: cached members are read by every request and never changed.
 */

/** Distinct shared values remembered per kind; past it, new values are simply kept as they are. */
const INTERN_LIMIT = 50_000;

class Interner<T> {
  private readonly values = new Map<string, T>();

  get(key: string, make: () => T): T {
    const known = this.values.get(key);
    if (known !== undefined) return known;
    const value = make();
    if (this.values.size < INTERN_LIMIT) this.values.set(key, value);
    return value;
  }
}

const strings = new Interner<string>();
const numberLists = new Interner<number[]>();
const stringLists = new Interner<string[]>();
const profiles = new Interner<ExternalProfile>();
const EMPTY_NUMBERS: number[] = Object.freeze([]) as unknown as number[];
const EMPTY_STRINGS: string[] = Object.freeze([]) as unknown as string[];

/** A string shared with every equal one seen before; undefined for empty. */
function shared(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return strings.get(value, () => value);
}

/** A non-empty string as it is (unique per member: userid, mobile, URLs); undefined for empty. */
const own = (value: string | undefined): string | undefined => value || undefined;

function numbers(list: readonly number[] | undefined): number[] {
  if (!list?.length) return EMPTY_NUMBERS;
  return numberLists.get(list.join(','), () => Object.freeze([...list]) as number[]);
}

function userids(list: readonly string[] | undefined): string[] {
  if (!list?.length) return EMPTY_STRINGS;
  return stringLists.get(list.join('\n'), () => Object.freeze(list.map((id) => shared(id)!)) as string[]);
}

function attributes(attrs: readonly ExtAttr[] | undefined): { attrs: ExtAttr[] } | undefined {
  if (!attrs?.length) return undefined;
  return {
    attrs: attrs.map((a) => ({
      type: a.type,
      name: shared(a.name) ?? '',
      ...(a.text ? { text: { value: a.text.value } } : {}),
      ...(a.web ? { web: { url: a.web.url, title: shared(a.web.title) ?? '' } } : {}),
      ...(a.miniprogram ? { miniprogram: a.miniprogram } : {}),
    })),
  };
}

function profile(p: ExternalProfile | undefined): ExternalProfile | undefined {
  // Kept even when empty: the schema shows an empty profile, not null. The common one (a corp name,
  // nothing else) is one object for everyone; the rest stay as they are.
  if (!p) return undefined;
  if (p.wechatChannels || p.externalAttr?.length) return p;
  return profiles.get(p.externalCorpName ?? '', () => Object.freeze(p));
}

/** The member as the cache keeps it (see above); the data the schema shows is unchanged. */
export function compactUser(u: WeComUser): WeComUser {
  return {
    userid: u.userid,
    name: shared(u.name) ?? '',
    department: numbers(u.department),
    order: numbers(u.order),
    isLeaderInDept: numbers(u.isLeaderInDept),
    directLeader: userids(u.directLeader),
    mainDepartment: u.mainDepartment,
    status: u.status,
    gender: u.gender,
    position: shared(u.position),
    alias: shared(u.alias),
    englishName: shared(u.englishName),
    mobile: own(u.mobile),
    email: own(u.email),
    bizMail: own(u.bizMail),
    telephone: own(u.telephone),
    address: shared(u.address),
    avatar: own(u.avatar),
    thumbAvatar: own(u.thumbAvatar),
    qrCode: own(u.qrCode),
    openUserid: own(u.openUserid),
    externalPosition: shared(u.externalPosition),
    externalProfile: profile(u.externalProfile),
    extattr: attributes(u.extattr?.attrs),
  };
}

/** A source whose member reads come back compacted (the directory cache sits over it). */
export function compactingSource(inner: DirectorySource): DirectorySource {
  return {
    departments: () => inner.departments(),
    members: async (departmentId) => (await inner.members(departmentId)).map(compactUser),
    user: async (userid) => {
      const user = await inner.user(userid);
      return user && compactUser(user);
    },
    tags: () => inner.tags(),
    tag: (tagid) => inner.tag(tagid),
    ...(inner.derived ? { derived: inner.derived.bind(inner) } : {}),
    ...(inner.visibility ? { visibility: inner.visibility.bind(inner) } : {}),
    ...(inner.outsideMembers
      ? { outsideMembers: async (known: ReadonlySet<string>) => (await inner.outsideMembers!(known)).map(compactUser) }
      : {}),
  };
}
