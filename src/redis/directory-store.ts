import { userKey } from 'wecom-protocol/userid';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import pLimit, { type LimitFunction } from 'p-limit';
import type { DirectoryChange } from '../directory/changes.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { EntryKind, EntryOf } from '../cache/entries.ts';
import type { SecondLevelStore, SharedRead } from '../cache/second-level.ts';
import { planSharedInvalidation } from '../cache/shared-invalidation.ts';
import type { RedisFallbacks } from './fallbacks.ts';
import { decodeEntry, encodeEntry } from './entry-codec.ts';
import { RedisScript } from './script.ts';

/**
 * The directory as the fleet shares it: what any instance loaded from WeCom (the department
 * list, member lists, single members, the tag list, tags), under every instance's in-process
 * cache. One instance loads a missing entry while holding a lease; the others wait for its
 * answer rather than call WeCom too.
 *
 * Versions, not deletes, retire entries. Each entry is stamped with three counters when its read
 * began: everything (`all`), its kind (`g:<kind>`) and itself (`k:<kind>[:id]`). A change bumps
 * the counters it touches (shared-invalidation.ts); a read whose stamp is no longer current is a
 * miss, and a load that began before a change cannot store its answer (the write script compares
 * stamps), so an answer from before a change never reaches the fleet. Counters expire two TTLs
 * after their last bump: every entry stamped before has expired by then.
 *
 * Only the instance where a change happened bumps (a mutation it ran, a callback it received):
 * the others hear it over the change bridge after the bump (same connection, so Redis has
 * applied it first), and bumping again would retire what was loaded meanwhile.
 *
 * Redis unavailable: every read is answered from WeCom by this instance (counted as a fallback,
 * logged once per outage); a change that could not be recorded retires everything shared as soon
 * as Redis answers again (what the fleet holds may predate it).
 *
 * Keys (one Redis, not a cluster: the scripts build some keys themselves):
 * `<prefix>dir:<corp>:e:<kind>[:id]` entries, `…:v:<…>` versions, `…:l:<kind>[:id]` leases,
 * `…:idx` member → departments (a hash; finds the lists holding a member, and a member inside them).
 */

/**
 * A lease lasts this long and its holder renews it while its load runs (a load may queue behind
 * thousands of others in a whole-directory walk), so waiters wait exactly as long as the load
 * takes; a holder that dies stops renewing, and its lease is free within this time.
 */
export const LOAD_LEASE_MS = 5_000;
/**
 * Redis steps of this store in flight at once. A cold whole-directory walk asks for thousands of
 * entries together; unbounded, their commands would all be written at once and wait for replies
 * behind each other's payloads, some past the command timeout (a failure, then a needless
 * upstream load). Queued here, a step's timeout starts only when it is sent.
 */
export const REDIS_STEPS_IN_FLIGHT = 32;
/** A waiter gives up on another instance's load after this long and loads itself (past any upstream call's deadline). */
export const LOAD_WAIT_MAX_MS = 60_000;
/**
 * How soon an instance waiting for another's load first looks for its answer; each later look
 * waits twice as long, up to LOAD_POLL_MAX_MS. A cold whole-directory read waits on thousands of
 * entries at once: a fixed short interval would flood Redis with reads and slow the very loads
 * being waited for.
 */
export const LOAD_POLL_MS = 10;
export const LOAD_POLL_MAX_MS = 250;

/** Stamp of the current versions: "all.group.key", missing counters as 0. */
const STAMP = `local function v(k) return redis.call('GET', k) or '0' end
local stamp = v(KEYS[2]) .. '.' .. v(KEYS[3]) .. '.' .. v(KEYS[4])`;

/** KEYS: entry, v:all, v:g:kind, v:k:key → {stamp} (miss) or {stamp, payload, pttl}. */
const READ = new RedisScript(`${STAMP}
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, #stamp + 1) == stamp .. '|' then
  return {stamp, string.sub(value, #stamp + 2), redis.call('PTTL', KEYS[1])}
end
return {stamp}`);

/** KEYS: entry, v:all, v:g:kind, v:k:key, idx; ARGV: stamp, ttl, payload, idx ttl, member/departments pairs → 1 stored, 0 stale. */
const WRITE = new RedisScript(`${STAMP}
if stamp ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], stamp .. '|' .. ARGV[3], 'PX', ARGV[2])
if #ARGV > 4 then
  for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1]) end
  redis.call('PEXPIRE', KEYS[5], ARGV[4])
end
return 1`);

/**
 * ARGV: base, version ttl, n, n version names, then member keys whose indexed lists are bumped.
 * Sent with EVAL, never EVALSHA: a NOSCRIPT retry would let the change's PUBLISH overtake it.
 */
const INVALIDATE = `local base, ttl, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local function bump(name) redis.call('INCR', base .. 'v:' .. name) redis.call('PEXPIRE', base .. 'v:' .. name, ttl) end
for i = 4, 3 + n do bump(ARGV[i]) end
for i = 4 + n, #ARGV do
  local departments = redis.call('HGET', base .. 'idx', ARGV[i])
  if departments then for id in string.gmatch(departments, '[^,]+') do bump('k:members:' .. id) end end
end
return 1`;

/** Extends the lease only if we still hold it. */
const RENEW = new RedisScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`,
);

/** Deletes the lease only if we still hold it. */
const RELEASE = new RedisScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`);

export interface SharedCacheStats {
  /** Reads answered from the fleet's store at once. */
  hits: number;
  /** Reads answered by another instance's load, after waiting for its lease. */
  waited: number;
  /** Reads this instance loaded from WeCom and shared. */
  loaded: number;
  /** Reads answered from WeCom by this instance alone because Redis failed. */
  degraded: number;
  /** Loads whose answer was not stored: a change overtook them. */
  staleWrites: number;
}

export interface RedisDirectoryStoreOptions {
  prefix: string;
  corpId: string;
  /** How long an entry stays (the directory cache's TTL). */
  ttlMs: number;
  fallbacks: RedisFallbacks;
  /** Whether a change was heard from another instance (ChangeBridge.isRemote): that instance bumped already. */
  isRemote: (change: DirectoryChange) => boolean;
  leaseMs?: number;
  pollMs?: number;
}

/** What a Redis command gave, or FAILED when Redis did not answer. */
const FAILED = Symbol('redis failed');

export class RedisDirectoryStore implements SecondLevelStore {
  private readonly base: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly counters: SharedCacheStats = { hits: 0, waited: 0, loaded: 0, degraded: 0, staleWrites: 0 };
  /** A change could not be recorded while Redis was away: retire everything once it is back. */
  private owesReset = false;
  private readonly steps: LimitFunction = pLimit(REDIS_STEPS_IN_FLIGHT);

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisDirectoryStoreOptions,
  ) {
    this.base = `${options.prefix}dir:${options.corpId}:`;
    this.leaseMs = options.leaseMs ?? LOAD_LEASE_MS;
    this.pollMs = options.pollMs ?? LOAD_POLL_MS;
    redis.on('ready', () => void this.settleReset());
  }

  stats(): SharedCacheStats {
    return { ...this.counters };
  }

  read<K extends EntryKind>(
    kind: K,
    id: string | number | undefined,
    load: () => Promise<EntryOf<K>['value']>,
  ): Promise<SharedRead<EntryOf<K>['value']>> {
    return this.readAs(kind, id, load);
  }

  private async readAs<Value>(kind: EntryKind, id: string | number | undefined, load: () => Promise<Value>): Promise<SharedRead<Value>> {
    const here = (): Promise<SharedRead<Value>> => load().then((value) => ({ value, ttlMs: this.options.ttlMs }));
    const alone = (): Promise<SharedRead<Value>> => {
      this.counters.degraded++;
      return here();
    };
    if (this.owesReset && !(await this.settleReset())) return alone();
    const keys = this.keysOf(kind, id);
    const waitUntil = Date.now() + LOAD_WAIT_MAX_MS;
    let waited = false;
    let pause = this.pollMs;
    for (;;) {
      const found = await this.attempt('read', () => this.fetch<Value>(keys));
      if (found === FAILED) return alone();
      if (found.hit) {
        this.counters[waited ? 'waited' : 'hits']++;
        return found.hit;
      }
      if (kind === 'user' && typeof id === 'string') {
        // A member is in the member lists the fleet holds: no user/get for them.
        const listed = await this.attempt('read', () => this.userFromLists(id));
        if (listed === FAILED) return alone();
        if (listed) {
          this.counters.hits++;
          // A user entry holds a WeComUser (or null): this one came from a member list.
          return listed as SharedRead<Value>;
        }
      }
      const owner = randomBytes(9).toString('base64');
      const leased = await this.attempt('lease', async () => (await this.redis.set(keys.lease, owner, 'PX', this.leaseMs, 'NX')) === 'OK');
      if (leased === FAILED) return alone();
      if (leased) return this.loadAndShare<Value>(kind, keys, owner, load);
      if (Date.now() >= waitUntil) {
        // Another instance kept renewing its lease far past any upstream deadline: load here rather than stall.
        return here();
      }
      waited = true;
      await sleep(pause);
      pause = Math.min(2 * pause, LOAD_POLL_MAX_MS);
    }
  }

  apply(change: DirectoryChange): void {
    if (this.options.isRemote(change)) return;
    const plan = planSharedInvalidation(change);
    const versions = plan.all ? ['all'] : [...[...plan.groups].map((g) => `g:${g}`), ...[...plan.keys].map((k) => `k:${k}`)];
    const members = plan.all ? [] : [...plan.usersInLists];
    // Issued now, synchronously, so it precedes the bridge's PUBLISH of this change on the connection.
    this.redis.eval(INVALIDATE, 0, this.base, this.versionTtlMs(), versions.length, ...versions, ...members).catch((err: unknown) => {
      this.owesReset = true;
      this.options.fallbacks.report(
        'directory-cache',
        'invalidate',
        err,
        'the fleet’s shared directory entries are retired when Redis is back',
      );
    });
  }

  private async loadAndShare<V>(kind: EntryKind, keys: EntryKeys, owner: string, load: () => Promise<V>): Promise<SharedRead<V>> {
    const renewal = setInterval(
      () => void RENEW.run(this.redis, [keys.lease], [owner, this.leaseMs]).catch(() => undefined),
      this.leaseMs / 3,
    );
    renewal.unref();
    try {
      // The previous holder may have stored it between our read and our lease.
      const again = await this.attempt('read', () => this.fetch<V>(keys));
      if (again !== FAILED && again.hit) {
        this.counters.waited++;
        return again.hit;
      }
      const value = await load();
      this.counters.loaded++;
      if (again !== FAILED) {
        const stored = await this.attempt('write', () => this.store(kind, keys, again.stamp, value));
        if (stored === false) this.counters.staleWrites++;
      }
      return { value, ttlMs: this.options.ttlMs };
    } finally {
      clearInterval(renewal);
      await RELEASE.run(this.redis, [keys.lease], [owner]).catch(() => undefined);
    }
  }

  private async fetch<V>(keys: EntryKeys): Promise<{ stamp: string; hit?: SharedRead<V> }> {
    const reply = (await READ.runBuffer(this.redis, [keys.entry, ...keys.versions], [])) as [Buffer, Buffer?, number?];
    const stamp = reply[0].toString();
    if (reply[1] === undefined) return { stamp };
    // The entry expires in Redis after its TTL: what is left of it is what is left here.
    return { stamp, hit: { value: (await decodeEntry(reply[1])) as V, ttlMs: Math.max(1, Number(reply[2])) } };
  }

  private async store(kind: EntryKind, keys: EntryKeys, stamp: string, value: unknown): Promise<boolean> {
    const index: string[] = [];
    if (kind === 'members') for (const user of value as WeComUser[]) index.push(userKey(user.userid), user.department.join(','));
    const payload = await encodeEntry(value);
    const stored = await WRITE.runBuffer(
      this.redis,
      [keys.entry, ...keys.versions, `${this.base}idx`],
      [stamp, this.options.ttlMs, payload, this.versionTtlMs(), ...index],
    );
    return Number(stored) === 1;
  }

  /** A member found in a member list the fleet holds (null when none holds them). */
  private async userFromLists(id: string): Promise<SharedRead<WeComUser> | null> {
    const key = userKey(id);
    const departments = await this.redis.hget(`${this.base}idx`, key);
    for (const department of (departments ?? '').split(',').filter(Boolean).slice(0, 1)) {
      const list = await this.fetch<WeComUser[]>(this.keysOf('members', department));
      const user = list.hit?.value.find((u) => userKey(u.userid) === key);
      if (user && list.hit) return { value: user, ttlMs: list.hit.ttlMs };
    }
    return null;
  }

  private keysOf(kind: EntryKind, id: string | number | undefined): EntryKeys {
    const name = id === undefined ? kind : `${kind}:${id}`;
    return {
      entry: `${this.base}e:${name}`,
      lease: `${this.base}l:${name}`,
      versions: [`${this.base}v:all`, `${this.base}v:g:${kind}`, `${this.base}v:k:${name}`],
    };
  }

  /** Versions outlive every entry stamped with them (entries live one TTL). */
  private versionTtlMs(): number {
    return 2 * this.options.ttlMs + 60_000;
  }

  /** Retires everything when a change could not be recorded; true when nothing is owed any more. */
  private async settleReset(): Promise<boolean> {
    if (!this.owesReset) return true;
    try {
      await this.redis.eval(INVALIDATE, 0, this.base, this.versionTtlMs(), 1, 'all');
      this.owesReset = false;
      return true;
    } catch (err) {
      this.options.fallbacks.report(
        'directory-cache',
        'invalidate',
        err,
        'the fleet’s shared directory entries are retired when Redis is back',
      );
      return false;
    }
  }

  /** Runs a Redis step; a failure is reported (the read goes on from WeCom) and answers FAILED. */
  private async attempt<T>(operation: string, step: () => Promise<T>): Promise<T | typeof FAILED> {
    try {
      return await this.steps(step);
    } catch (err) {
      this.options.fallbacks.report('directory-cache', operation, err, 'each instance reads the directory from WeCom on its own');
      return FAILED;
    }
  }
}

interface EntryKeys {
  entry: string;
  lease: string;
  /** v:all, v:g:<kind>, v:k:<kind>[:id] */
  versions: [string, string, string];
}
