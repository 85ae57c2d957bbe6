import { userKey } from 'wecom-protocol/userid';
/**
 * Tags (标签管理, docs/wecom-api.md §5). A tag belongs to the secret that created it, so tag calls
 * use the contacts-sync secret when one is configured, else the app (token policy `owner`).
 */
import { endpoint, noResult, type CallOptions, type Invoke, type ReadBack } from './endpoint.ts';
import { arrayField, numberField, stringField, type WireObject } from './wire.ts';

export interface WeComTagSummary {
  tagid: number;
  tagname: string;
}

export interface WeComTag {
  tagname: string;
  /** Members visible to the caller (`name` withheld from third parties). */
  userlist: { userid: string; name?: string }[];
  partylist: number[];
}

export interface TagMembersInput {
  tagid: number;
  /** ≤ 1000 userids. */
  userlist?: string[];
  /** ≤ 100 department ids. */
  partylist?: number[];
}

/** What WeCom refused in a partial success (the rest was applied). */
export interface TagMembersResult {
  invalidUsers: string[];
  invalidParties: number[];
}

/** `invalidlist` is a `|`-joined string and `invalidparty` an int array (§5). */
function parseInvalid(wire: WireObject): TagMembersResult {
  const list = wire.invalidlist;
  const invalidUsers = typeof list === 'string' ? list.split('|').filter(Boolean) : Array.isArray(list) ? list.map(String) : [];
  return { invalidUsers, invalidParties: arrayField<number>(wire, 'invalidparty') };
}

const wireMembers = (input: TagMembersInput): WireObject => ({
  tagid: input.tagid,
  ...(input.userlist?.length ? { userlist: input.userlist } : {}),
  ...(input.partylist?.length ? { partylist: input.partylist } : {}),
});

/** How many of the requested members the tag holds now. */
async function membersPresent(invoke: Invoke, input: TagMembersInput, options: CallOptions): Promise<{ present: number; total: number }> {
  const tag = await invoke(getTag, input.tagid, options);
  const users = new Set(tag.userlist.map((u) => userKey(u.userid)));
  const parties = new Set(tag.partylist);
  const wantedUsers = input.userlist ?? [];
  const wantedParties = input.partylist ?? [];
  const present = wantedUsers.filter((u) => users.has(userKey(u))).length + wantedParties.filter((p) => parties.has(p)).length;
  return { present, total: wantedUsers.length + wantedParties.length };
}

export const createTag = endpoint<{ tagname: string; tagid?: number }, { tagid: number }>({
  method: 'POST',
  path: '/cgi-bin/tag/create',
  token: 'owner',
  effect: 'write',
  body: (p) => ({ tagname: p.tagname, ...(p.tagid !== undefined ? { tagid: p.tagid } : {}) }),
  parse: (wire) => ({ tagid: numberField(wire, 'tagid') }),
  async readBack(input, invoke, options): Promise<ReadBack<{ tagid: number }>> {
    // Tag names are unique in the corp (40071), so the name finds the tag.
    const found = (await invoke(listTags, undefined, options)).find((t) => t.tagname === input.tagname);
    if (!found) return { applied: false };
    if (input.tagid === undefined || found.tagid === input.tagid) return { applied: true, result: { tagid: found.tagid } };
    throw new Error('a tag with this name exists under another id');
  },
});

export const updateTag = endpoint<{ tagid: number; tagname: string }, void>({
  method: 'POST',
  path: '/cgi-bin/tag/update',
  token: 'owner',
  effect: 'write',
  body: (p) => ({ tagid: p.tagid, tagname: p.tagname }),
  parse: noResult,
  async readBack(input, invoke, options): Promise<ReadBack<void>> {
    const found = (await invoke(listTags, undefined, options)).find((t) => t.tagid === input.tagid);
    if (!found) throw new Error('the tag is gone');
    return found.tagname === input.tagname ? { applied: true, result: undefined } : { applied: false };
  },
});

export const deleteTag = endpoint<number, void>({
  method: 'GET',
  path: '/cgi-bin/tag/delete',
  token: 'owner',
  effect: 'write',
  query: (tagid) => ({ tagid }),
  parse: noResult,
  async readBack(tagid, invoke, options): Promise<ReadBack<void>> {
    const found = (await invoke(listTags, undefined, options)).some((t) => t.tagid === tagid);
    return found ? { applied: false } : { applied: true, result: undefined };
  },
});

export const getTag = endpoint<number, WeComTag>({
  method: 'GET',
  path: '/cgi-bin/tag/get',
  token: 'read',
  effect: 'read',
  query: (tagid) => ({ tagid }),
  parse: (wire) => ({
    tagname: stringField(wire, 'tagname'),
    userlist: arrayField<{ userid: string; name?: string }>(wire, 'userlist'),
    partylist: arrayField<number>(wire, 'partylist'),
  }),
});

export const addTagMembers = endpoint<TagMembersInput, TagMembersResult>({
  method: 'POST',
  path: '/cgi-bin/tag/addtagusers',
  token: 'owner',
  effect: 'write',
  body: wireMembers,
  parse: parseInvalid,
  async readBack(input, invoke, options): Promise<ReadBack<TagMembersResult>> {
    const { present, total } = await membersPresent(invoke, input, options);
    if (present === total) return { applied: true, result: { invalidUsers: [], invalidParties: [] } };
    if (present === 0) return { applied: false };
    // Some present, some not: a partial success (refused members) cannot be told from another writer.
    throw new Error('only some of the members are in the tag');
  },
});

export const removeTagMembers = endpoint<TagMembersInput, TagMembersResult>({
  method: 'POST',
  path: '/cgi-bin/tag/deltagusers',
  token: 'owner',
  effect: 'write',
  body: wireMembers,
  parse: parseInvalid,
  async readBack(input, invoke, options): Promise<ReadBack<TagMembersResult>> {
    const { present, total } = await membersPresent(invoke, input, options);
    if (present === 0) return { applied: true, result: { invalidUsers: [], invalidParties: [] } };
    if (present === total) return { applied: false };
    throw new Error('only some of the members left the tag');
  },
});

export const listTags = endpoint<undefined, WeComTagSummary[]>({
  method: 'GET',
  path: '/cgi-bin/tag/list',
  token: 'read',
  effect: 'read',
  parse: (wire) => arrayField<WeComTagSummary>(wire, 'taglist'),
});

export function tagsApi(invoke: Invoke) {
  return {
    /** `POST /cgi-bin/tag/create`: creates a tag owned by the calling secret; returns its id. */
    create: (input: { tagname: string; tagid?: number }, options?: CallOptions) => invoke(createTag, input, options),
    /** `POST /cgi-bin/tag/update`: renames a tag (its owner only). */
    update: (input: { tagid: number; tagname: string }, options?: CallOptions) => invoke(updateTag, input, options),
    /** `GET /cgi-bin/tag/delete`: deletes a tag (its owner only). */
    delete: (tagid: number, options?: CallOptions) => invoke(deleteTag, tagid, options),
    /** `GET /cgi-bin/tag/get`: a tag's name, members and departments. */
    get: (tagid: number, options?: CallOptions) => invoke(getTag, tagid, options),
    /** `POST /cgi-bin/tag/addtagusers`: adds members and departments; reports the refused ones. */
    addMembers: (input: TagMembersInput, options?: CallOptions) => invoke(addTagMembers, input, options),
    /** `POST /cgi-bin/tag/deltagusers`: removes members and departments; reports the refused ones. */
    removeMembers: (input: TagMembersInput, options?: CallOptions) => invoke(removeTagMembers, input, options),
    /** `GET /cgi-bin/tag/list`: every tag (id and name). */
    list: (options?: CallOptions) => invoke(listTags, undefined, options),
  };
}

export type TagsApi = ReturnType<typeof tagsApi>;
