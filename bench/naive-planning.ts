import DataLoader from 'dataloader';
import type { WeComClient } from '../src/wecom/client.ts';
import type { WeComUser } from '../src/wecom/users.ts';
import type { WeComTag, WeComTagSummary } from '../src/wecom/tags.ts';
import { clientSource, nullWhenMissing, type DirectorySource } from '../src/directory/source.ts';
import { DepartmentTree } from '../src/directory/tree.ts';
import { RequestLoaders } from '../src/loaders/index.ts';
import type { RequestLoaderFactory } from '../src/schema/context.ts';
import { LinkedLoaders, linkedUserId, type LinkGroup, type LinkedMember } from '../src/loaders/linked.ts';

/**
 * The benchmark's naive baseline (bench/naive-service.ts): the same schema and resolvers as the
 * planned service, but with the planning taken out, so `npm run bench` can show the N+1 cost the
 * design removes. It lives with the benchmark and reaches the service through two seams of
 * createApp: a given `source` (which also leaves the cross-request cache out) and `loaders`.
 *
 * What "naive" means here, exactly:
 * - no cross-request directory cache (a given source is used as it is, never cached);
 * - members of a department come from `user/simplelist` and then one `user/get` per member, as a
 *   resolver written without knowing that `user/list` returns details;
 * - no DataLoader batching or de-duplication, no priming from lists: every `user`, `members` and
 *   `tag` load goes upstream on its own;
 * - no per-request memo of the department tree, the tag list or the linked-corp grant: every
 *   resolver that needs them reads them again.
 * Views computed once per request from those reads (everyone, direct reports, the tag and search
 * indexes) are kept as the planned loaders keep them: each is used once per query anyway.
 */
/** Reads that ignore what lists already return: one `user/get` per member of a `user/simplelist`. */
export function naiveSource(client: WeComClient): DirectorySource {
  const direct = clientSource(client);
  return {
    departments: direct.departments,
    async members(departmentId) {
      const ids = await client.users.simpleList(departmentId);
      const users = await Promise.all(ids.map((u) => nullWhenMissing(client.users.get(u.userid))));
      return users.filter((u): u is WeComUser => u !== null);
    },
    user: direct.user,
    tags: direct.tags,
    tag: direct.tag,
  };
}

/** DataLoader with both of its request-level savings switched off. */
const UNPLANNED = { batch: false, cache: false } as const;

/** Turns one failed load into that key's error, as DataLoader expects. */
const one = async <V>(load: () => Promise<V>): Promise<(V | Error)[]> => {
  try {
    return [await load()];
  } catch (err) {
    return [err instanceof Error ? err : new Error(String(err))];
  }
};

/** RequestLoaders without batching, de-duplication, priming or per-request memo of the tree and tags. */
export class NaiveRequestLoaders extends RequestLoaders {
  constructor(private readonly upstream: DirectorySource) {
    super(upstream);
  }

  override readonly members = new DataLoader<number, WeComUser[]>(([id]) => one(() => this.upstream.members(id!)), UNPLANNED);
  override readonly user = new DataLoader<string, WeComUser | null>(([id]) => one(() => this.upstream.user(id!)), UNPLANNED);
  override readonly tag = new DataLoader<number, WeComTag | null>(([id]) => one(() => this.upstream.tag(id!)), UNPLANNED);

  override tree(): Promise<DepartmentTree> {
    return this.upstream.departments().then((list) => new DepartmentTree(list));
  }

  override tags(): Promise<WeComTagSummary[]> {
    return this.upstream.tags();
  }
}

/** LinkedLoaders without batching, de-duplication or a per-request memo of the grant. */
export class NaiveLinkedLoaders extends LinkedLoaders {
  constructor(private readonly upstream: WeComClient) {
    super(upstream);
  }

  override readonly members = new DataLoader<string, LinkedMember[]>(
    ([key]) =>
      one(async () => {
        const users = await this.upstream.linkedCorp.listUsers(key!.slice(2), { fetchChild: key!.startsWith('r:') });
        return users.map((u) => ({ ...u, id: linkedUserId(u) }));
      }),
    UNPLANNED,
  );

  /** Each load through a fresh planned loader: nothing is shared between loads. */
  override readonly user = new DataLoader<string, LinkedMember | null>(
    ([id]) => one(() => new LinkedLoaders(this.upstream).user.load(id!)),
    UNPLANNED,
  );

  /** A fresh planned loader per call: the grant and its department lists are read again every time. */
  override groups(): Promise<LinkGroup[]> {
    return new LinkedLoaders(this.upstream).groups();
  }
}

/** The loaders of the naive baseline, for createApp's `loaders` seam. */
export const NAIVE_LOADERS: RequestLoaderFactory = {
  request: (read) => new NaiveRequestLoaders(read),
  linked: (client) => new NaiveLinkedLoaders(client),
};

/** The `planning` (src/wire-app.ts) that turns the service into the naive baseline. */
export function naivePlanning(client: WeComClient): { source: DirectorySource; loaders: RequestLoaderFactory } {
  return { source: naiveSource(client), loaders: NAIVE_LOADERS };
}
