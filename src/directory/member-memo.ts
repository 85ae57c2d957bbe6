import { userKey } from 'wecom-protocol/userid';
import { LRUCache } from 'lru-cache';
import type { ChangeBus, DirectoryChange } from './changes.ts';
import type { DirectorySource } from './source.ts';
import { atMostEntries } from '../cache/lru-bounds.ts';

/**
 * Per-member lookups remembered across requests, so that a userid asked for again (by the same
 * request through aliases, or by the next request) is not fetched from WeCom again:
 * - userids WeCom said do not exist (user/get 60111), for a short while: a flood of unknown ids
 *   costs WeCom once, not once per request (the directory cache, when on, keeps found members);
 * - openids (user/convert_to_openid), which only change when a member is deleted or renamed.
 * Concurrent lookups of one key share one upstream call. Changes to a member forget what is
 * remembered about it (a member created after a miss is found at once).
 */

export interface MemberMemoOptions {
  /** How long "no such member" is remembered. */
  missingTtlMs: number;
  missingMaxEntries: number;
  /** How long an openid is remembered. */
  openIdTtlMs: number;
  openIdMaxEntries: number;
}

export const DEFAULT_MEMBER_MEMO: MemberMemoOptions = {
  missingTtlMs: 60_000,
  missingMaxEntries: 20_000,
  openIdTtlMs: 30 * 60_000,
  openIdMaxEntries: 100_000,
};

export class MemberMemo {
  private readonly missing: LRUCache<string, true>;
  private readonly openIds: LRUCache<string, { openid: string | null }>;
  private readonly userFlights = new Map<string, Promise<unknown>>();
  private readonly openIdFlights = new Map<string, Promise<string | null>>();

  constructor(options: MemberMemoOptions = DEFAULT_MEMBER_MEMO) {
    this.missing = new LRUCache({ ...atMostEntries(options.missingMaxEntries), ttl: options.missingTtlMs });
    this.openIds = new LRUCache({ ...atMostEntries(options.openIdMaxEntries), ttl: options.openIdTtlMs });
  }

  /** Forgets what a change makes wrong; returns the unsubscribe function. */
  attach(bus: ChangeBus): () => void {
    return bus.subscribe((change) => this.apply(change));
  }

  apply(change: DirectoryChange): void {
    if (change.kind === 'DIRECTORY_RELOADED') {
      this.missing.clear();
      this.openIds.clear();
      return;
    }
    if (change.kind !== 'USER_CREATED' && change.kind !== 'USER_UPDATED' && change.kind !== 'USER_DELETED') return;
    for (const id of [change.userid, change.newUserid]) {
      if (id === undefined) continue;
      this.missing.delete(userKey(id));
      this.openIds.delete(userKey(id));
    }
  }

  /** WeCom said recently that this member does not exist. */
  knownMissing(userid: string): boolean {
    return this.missing.has(userKey(userid));
  }

  /** The member's openid is remembered (a lookup would not go upstream). */
  knowsOpenId(userid: string): boolean {
    return this.openIds.has(userKey(userid));
  }

  /** `source` with its single-member reads remembered when WeCom says "no such member", and shared while in flight. */
  source(inner: DirectorySource): DirectorySource {
    const user: DirectorySource['user'] = (userid) => {
      const k = userKey(userid);
      if (this.missing.has(k)) return Promise.resolve(null);
      const inFlight = this.userFlights.get(k) as ReturnType<DirectorySource['user']> | undefined;
      if (inFlight) return inFlight;
      const read = inner.user(userid).then((found) => {
        if (found === null) this.missing.set(k, true);
        return found;
      });
      this.userFlights.set(k, read);
      const done = () => this.userFlights.delete(k);
      read.then(done, done);
      return read;
    };
    const derived = inner.derived?.bind(inner);
    const visibility = inner.visibility?.bind(inner);
    const outsideMembers = inner.outsideMembers?.bind(inner);
    return {
      departments: () => inner.departments(),
      members: (departmentId) => inner.members(departmentId),
      user,
      tags: () => inner.tags(),
      tag: (tagid) => inner.tag(tagid),
      ...(derived ? { derived } : {}),
      ...(visibility ? { visibility } : {}),
      ...(outsideMembers ? { outsideMembers } : {}),
    };
  }

  /** The member's openid, from memory or from `load` (one call per member however many ask at once). */
  openId(userid: string, load: () => Promise<string | null>): Promise<string | null> {
    const k = userKey(userid);
    const remembered = this.openIds.get(k);
    if (remembered) return Promise.resolve(remembered.openid);
    const inFlight = this.openIdFlights.get(k);
    if (inFlight) return inFlight;
    const read = load().then((openid) => {
      this.openIds.set(k, { openid });
      return openid;
    });
    this.openIdFlights.set(k, read);
    const done = () => this.openIdFlights.delete(k);
    read.then(done, done);
    return read;
  }
}
