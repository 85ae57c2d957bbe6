import type { WeComClient } from '../wecom/client.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComTag, WeComTagSummary } from '../wecom/tags.ts';
import type { WeComAgent } from '../wecom/agent.ts';
import { isNotFound } from '../wecom/errors.ts';

/**
 * What the graph reads from WeCom, one method per upstream read it plans around. The per-request
 * loaders batch and de-duplicate on top of it; the cross-request directory cache implements the
 * same interface below them, so neither the loaders nor the schema know whether a read was cached.
 */
export interface DirectorySource {
  /** The whole department tree the service may see (one `department/list`). */
  departments(): Promise<WeComDepartment[]>;
  /** Members directly in one department (one `user/list`, without fetch_child). */
  members(departmentId: number): Promise<WeComUser[]>;
  /** One member (`user/get`); null when WeCom says it does not exist or is not visible. */
  user(userid: string): Promise<WeComUser | null>;
  /** All tags (`tag/list`). */
  tags(): Promise<WeComTagSummary[]>;
  /** One tag's members (`tag/get`); null when the tag does not exist. */
  tag(tagid: number): Promise<WeComTag | null>;
  /**
   * Optional: remembers a view computed from the reads above (everyone, direct reports, the tag
   * index, the search index) across requests, until a read it `dependsOn` changes. A source
   * without it (straight upstream) leaves the loaders to compute the view per request. `keep`
   * says whether a built value may be shared (false for a view missing a part that failed).
   */
  derived?<T>(name: string, dependsOn: readonly DerivedDependency[], build: () => Promise<T>, keep?: (value: T) => boolean): Promise<T>;
  /**
   * Optional: the app's details and visible range (agent/get) when reads go through an app secret;
   * null when they go through the contacts-sync secret, which sees the whole corp.
   */
  visibility?(): Promise<WeComAgent | null>;
  /**
   * Optional: members visible outside the department tree (made visible by user or by tag), other
   * than those whose lower-cased userid `known` holds.
   */
  outsideMembers?(known: ReadonlySet<string>): Promise<WeComUser[]>;
}

/** What a derived view is computed from: the tree, member lists, or tags and their members. */
export type DerivedDependency = 'departments' | 'members' | 'tags';

/** Reads straight from the client: every call goes upstream. */
export function clientSource(client: WeComClient): DirectorySource {
  return {
    departments: () => client.departments.list(),
    members: (departmentId) => client.users.list(departmentId),
    user: (userid) => nullWhenMissing(client.users.get(userid)),
    tags: () => client.tags.list(),
    tag: (tagid) => nullWhenMissing(client.tags.get(tagid)),
  };
}

/** WeCom's "no such thing" (60111, 60003, 40068, 46004 …) becomes null; other failures stay errors. */
export async function nullWhenMissing<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
