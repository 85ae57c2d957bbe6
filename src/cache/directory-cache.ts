// Long on purpose: one class owns the LRU, the loads in flight, stale-while-revalidate and the invalidation
// plan, because their races (a load finishing after an invalidation) are only safe decided in one place.
import { userKey } from 'wecom-protocol/userid';
import { isDeepStrictEqual } from 'node:util';
import { LRUCache } from 'lru-cache';
import type { ChangeBus, DirectoryChange } from '../directory/changes.ts';
import type { DerivedDependency, DirectorySource } from '../directory/source.ts';
import type { WeComAgent } from '../wecom/agent.ts';
import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComTag, WeComTagSummary } from '../wecom/tags.ts';
import type { CacheEntry, EntryKind, EntryOf } from './entries.ts';
import { CacheRegistry } from './registry.ts';
import { type InvalidationPlan, planInvalidation } from './invalidation.ts';
import type { SecondLevelStore } from './second-level.ts';
import { atMostEntries } from './lru-bounds.ts';

export interface DirectoryCacheOptions {
  /** Keys start with it, so one store could hold several corps. */
  corpId: string;
  /** How long a read stays fresh. */
  ttlMs: number;
  /** How long past its TTL a read may still be served while it is refreshed in the background. */
  staleMs: number;
  /** At most this many entries (lists and single members); the least recently used go first. */
  maxEntries: number;
  /** Milliseconds on a monotonic clock (tests move it forward); performance.now by default. */
  now?: () => number;
  /**
   * A store shared by the instances of a fleet (Redis, with REDIS_URL), read through on a local
   * miss and told of every change; absent: every miss reads WeCom.
   */
  secondLevel?: SecondLevelStore;
}

export interface DirectoryCacheStats {
  /** Fresh reads answered from the cache. */
  hits: number;
  /** Reads that found nothing and went upstream. */
  misses: number;
  /** Reads answered with an expired value while a refresh ran (stale-while-revalidate). */
  stale: number;
  /** Reads that joined a read already in flight. */
  joined: number;
  /** Upstream reads made (refetches after a concurrent invalidation included). */
  loads: number;
  /** Changes applied. */
  invalidations: number;
  /** Derived views built (a view shared across requests is built once until it changes). */
  viewBuilds: number;
  /** Derived views served as already built (a request answered without reading the lists again). */
  viewHits: number;
  /** Entries held now. */
  entries: number;
}

/** What `refresh` can read again: the lists the warm-up keeps fresh. */
export type RefreshTarget =
  | { kind: 'departments' }
  | { kind: 'members'; departmentId: number }
  | { kind: 'tags' }
  | { kind: 'tag'; tagId: number };

/** A read in flight: invalidated while it ran (refetch), and whether its stale value may still be served. */
interface Flight {
  kind: EntryKind;
  /** An invalidation touched this key after the current attempt started: its answer may predate the change. */
  dirty: boolean;
  /** The stale value is known wrong: readers wait for the refetch instead. */
  noStale: boolean;
  /** lru-cache aborted it (evicted, cleared); readers read again. */
  aborted: boolean;
}

/** How to fill one key, handed to lru-cache's fetchMethod as its context. */
interface Loader {
  kind: EntryKind;
  load: () => Promise<CacheEntry>;
}

/**
 * An answer that raced an invalidation is fetched again, at most this many times in all; after
 * that it is handed to the waiting readers but stored as already expired.
 */
const MAX_ATTEMPTS = 3;
/** Reads retried when lru-cache aborted the fetch they joined (eviction under pressure). */
const MAX_READS = 3;

/**
 * The cross-request directory cache, below the per-request loaders: a `DirectorySource` over an
 * inner source (`clientSource(client)`), so neither the loaders nor the schema know a read was
 * cached.
 *
 * - One lru-cache bounded by entry count, with a TTL. Its `fetchMethod` de-duplicates reads in
 *   flight (N concurrent cold reads of one key make one upstream call) and serves an expired
 *   value while it refreshes it (stale-while-revalidate), up to `staleMs` past the TTL.
 * - Changes (mutations, WeCom callbacks, imports) arrive on the ChangeBus and drop exactly the
 *   entries they touch (invalidation.ts), found through reverse indexes (registry.ts). A read in
 *   flight when its key is invalidated is fetched again, so an answer from before the change is
 *   never stored; its stale value is no longer served.
 * - Views derived from the lists (everyone, direct reports, tag index, search index) are memoised
 *   across requests by `derived()`, per dependency epoch: a change to a list they depend on, or a
 *   refresh that brought different data, makes them rebuild.
 */
export class DirectoryCache implements DirectorySource {
  private readonly lru: LRUCache<string, CacheEntry, Loader>;
  private readonly registry = new CacheRegistry();
  /**
   * The members of the cached lists by userid: a member list holds the same records as user/get,
   * so single reads are answered from it. One map entry a member, where an LRU entry each cost
   * 200 bytes (12 MB for the large seed's 50,400 members).
   */
  private readonly listed = new Map<string, WeComUser>();
  private readonly flights = new Map<string, Flight>();
  private readonly epochs: Record<DerivedDependency, number> = { departments: 0, members: 0, tags: 0 };
  private readonly views = new Map<string, { promise: Promise<unknown>; epochs: Record<DerivedDependency, number>; builtAt: number }>();
  private readonly counters = { hits: 0, misses: 0, stale: 0, joined: 0, loads: 0, invalidations: 0, viewBuilds: 0, viewHits: 0 };
  private readonly now: () => number;
  private readonly prefix: string;

  /** How long an entry is fresh (the response cache keeps answers as long). */
  get ttlMs(): number {
    return this.options.ttlMs;
  }

  /**
   * Bumped by every invalidation: whatever was computed from the cache before a bump may be
   * wrong after it (the response cache drops its answers then).
   */
  generation = 0;

  /** The cache's clock (injectable in tests). */
  clock(): number {
    return this.now();
  }

  constructor(
    private readonly inner: DirectorySource,
    private readonly options: DirectoryCacheOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.prefix = `${options.corpId}:`;
    this.lru = new LRUCache<string, CacheEntry, Loader>({
      ...atMostEntries(options.maxEntries),
      ttl: options.ttlMs,
      // Re-read the clock on every check: a cached "now" would hide a test clock's jumps.
      ttlResolution: 0,
      // lru-cache reads a start time of 0 as "no TTL": shifted by 1 ms, a clock that starts at 0
      // (a test's) still expires entries. Only differences of this clock are ever compared.
      perf: { now: () => this.now() + 1 },
      // A failed refresh keeps the stale value for readers that may take it; the error goes to
      // readers that waited for the answer.
      noDeleteOnFetchRejection: true,
      fetchMethod: (key, stale, { signal, options: fetchOptions, context }) => this.load(key, stale, signal, fetchOptions, context),
      onInsert: (entry) => {
        this.registry.add(entry);
        if (entry.kind === 'members') for (const user of entry.value) this.listed.set(userKey(user.userid), user);
      },
      dispose: (entry) => {
        this.registry.remove(entry);
        if (entry.kind === 'members') this.unlist(entry.departmentId, entry.value);
      },
    });
  }

  /** Listens to directory changes; returns the unsubscribe function. */
  attach(bus: ChangeBus): () => void {
    return bus.subscribe((change) => this.apply(change));
  }

  async departments(): Promise<WeComDepartment[]> {
    const load = async (): Promise<CacheEntry> => ({
      kind: 'departments',
      ...(await this.upstream('departments', undefined, () => this.inner.departments())),
    });
    return ofKind(await this.read('departments', this.key('departments'), load), 'departments').value;
  }

  async members(departmentId: number): Promise<WeComUser[]> {
    const load = async (): Promise<CacheEntry> => ({
      kind: 'members',
      departmentId,
      ...(await this.upstream('members', departmentId, () => this.inner.members(departmentId))),
    });
    return ofKind(await this.read('members', this.key('members', departmentId), load), 'members').value;
  }

  async user(userid: string): Promise<WeComUser | null> {
    const id = userKey(userid);
    const listed = this.listedMember(id);
    if (listed) {
      this.counters.hits++;
      return listed;
    }
    const load = async (): Promise<CacheEntry> => ({
      kind: 'user',
      userKey: id,
      ...(await this.upstream('user', id, () => this.inner.user(userid))),
    });
    return ofKind(await this.read('user', this.key('user', id), load), 'user').value;
  }

  async tags(): Promise<WeComTagSummary[]> {
    const load = async (): Promise<CacheEntry> => ({ kind: 'tags', ...(await this.upstream('tags', undefined, () => this.inner.tags())) });
    return ofKind(await this.read('tags', this.key('tags'), load), 'tags').value;
  }

  async tag(tagid: number): Promise<WeComTag | null> {
    const load = async (): Promise<CacheEntry> => ({
      kind: 'tag',
      tagId: tagid,
      ...(await this.upstream('tag', tagid, () => this.inner.tag(tagid))),
    });
    return ofKind(await this.read('tag', this.key('tag', tagid), load), 'tag').value;
  }

  /** The app's visible range: the source keeps its own answer (agent/get) for a while. */
  visibility(): Promise<WeComAgent | null> {
    return this.inner.visibility ? this.inner.visibility() : Promise.resolve(null);
  }

  /** Members seen by userid or tag outside the tree: read through (the allUsers view that uses them is cached). */
  outsideMembers(known: ReadonlySet<string>): Promise<WeComUser[]> {
    return this.inner.outsideMembers ? this.inner.outsideMembers(known) : Promise.resolve([]);
  }

  /**
   * Reads one entry again now, before it expires (refresh-ahead, src/cache/warm-up.ts). Readers
   * keep getting the current value meanwhile; a refresh that finds the same data keeps the views.
   */
  async refresh(what: RefreshTarget): Promise<void> {
    const key =
      what.kind === 'members'
        ? this.key('members', what.departmentId)
        : what.kind === 'tag'
          ? this.key('tag', what.tagId)
          : this.key(what.kind);
    // A key in flight is being read already; a refresh would only repeat it.
    if (this.flights.has(key)) return;
    const load = async (): Promise<CacheEntry> => {
      switch (what.kind) {
        case 'departments':
          return { kind: 'departments', value: await this.inner.departments(), fetchedAt: this.now() };
        case 'members':
          return {
            kind: 'members',
            departmentId: what.departmentId,
            value: await this.inner.members(what.departmentId),
            fetchedAt: this.now(),
          };
        case 'tags':
          return { kind: 'tags', value: await this.inner.tags(), fetchedAt: this.now() };
        case 'tag':
          return { kind: 'tag', tagId: what.tagId, value: await this.inner.tag(what.tagId), fetchedAt: this.now() };
      }
    };
    await this.lru.fetch(key, { forceRefresh: true, allowStale: false, context: { kind: what.kind, load } });
  }

  /**
   * A view computed from cached reads, shared by every request until a read it depends on changes
   * or the TTL passes. Concurrent callers share one build; a failed build is forgotten.
   */
  derived<T>(name: string, dependsOn: readonly DerivedDependency[], build: () => Promise<T>, keep?: (value: T) => boolean): Promise<T> {
    const current = this.views.get(name);
    if (current && this.now() - current.builtAt <= this.options.ttlMs && dependsOn.every((d) => current.epochs[d] === this.epochs[d])) {
      this.counters.viewHits++;
      // The view was stored by this same call site with this name, so it holds a T.
      return current.promise as Promise<T>;
    }
    this.counters.viewBuilds++;
    const view = { promise: build() as Promise<unknown>, epochs: { ...this.epochs }, builtAt: this.now() };
    this.views.set(name, view);
    const forget = () => {
      if (this.views.get(name) === view) this.views.delete(name);
    };
    view.promise.then((value) => {
      // The same call site built it, so it holds a T.
      if (keep && !keep(value as T)) forget();
    }, forget);
    return view.promise as Promise<T>;
  }

  /**
   * After a refresh of every list (warm-up.ts): views whose lists were all found unchanged are as
   * fresh as those lists, so their TTL starts again instead of a caller rebuilding them.
   */
  renewViews(): void {
    const now = this.now();
    for (const view of this.views.values()) {
      if ((Object.keys(this.epochs) as DerivedDependency[]).every((d) => view.epochs[d] === this.epochs[d])) view.builtAt = now;
    }
  }

  /** Drops what a change makes wrong (see invalidation.ts). */
  apply(change: DirectoryChange): void {
    // First, so the fleet's copies are dropped before the change is broadcast (the same Redis connection keeps the order).
    this.options.secondLevel?.apply(change);
    this.counters.invalidations++;
    this.generation++;
    const cachedUser = (id: string) => {
      const entry = this.lru.peek(this.key('user', id), { allowStale: true });
      return this.listed.get(id) ?? (entry?.kind === 'user' ? entry.value : undefined);
    };
    this.execute(planInvalidation(change, { registry: this.registry, cachedUser }));
  }

  /** Forgets everything (also what `DIRECTORY_RELOADED` does). */
  invalidateAll(): void {
    this.generation++;
    this.execute({
      everything: true,
      tree: true,
      tagList: true,
      members: 'all',
      users: new Set(),
      tags: new Set(),
      memberData: true,
      references: true,
    });
  }

  stats(): DirectoryCacheStats {
    return { ...this.counters, entries: this.lru.size };
  }

  /**
   * One upstream read, through the fleet's shared store when there is one. A value another
   * instance loaded earlier is dated by when it was loaded, so it expires here when it does there.
   */
  private upstream<K extends EntryKind>(
    kind: K,
    id: string | number | undefined,
    read: () => Promise<EntryOf<K>['value']>,
  ): Promise<{ value: EntryOf<K>['value']; fetchedAt: number }> {
    const shared = this.options.secondLevel;
    if (!shared) return read().then((value) => ({ value, fetchedAt: this.now() }));
    return shared
      .read(kind, id, read)
      .then(({ value, ttlMs }) => ({ value, fetchedAt: this.now() - Math.max(0, this.options.ttlMs - ttlMs) }));
  }

  /** The cached tree, expired included, without reading upstream (cost estimates: src/security/corp-sizes.ts). */
  peekDepartments(): WeComDepartment[] | undefined {
    const entry = this.lru.peek(this.key('departments'), { allowStale: true });
    return entry?.kind === 'departments' ? entry.value : undefined;
  }

  /** How many department member lists are cached (expired included). */
  get cachedMemberListCount(): number {
    return this.registry.memberListCount;
  }

  /**
   * Whether a read of a department's member list would be answered without waiting for WeCom:
   * `fresh`, `stale` (served while it is refreshed), or `missing` (not cached, too old, known
   * wrong, or being read now).
   */
  memberListState(departmentId: number): 'fresh' | 'stale' | 'missing' {
    const key = this.key('members', departmentId);
    if (this.flights.has(key)) return 'missing';
    const entry = this.lru.peek(key, { allowStale: true });
    if (!entry) return 'missing';
    if (this.lru.getRemainingTTL(key) > 0) return 'fresh';
    return this.now() - entry.fetchedAt <= this.options.ttlMs + this.options.staleMs ? 'stale' : 'missing';
  }

  /**
   * Whether the view `name` (see `derived`, with the same `dependsOn`) is built, or being built,
   * and still current: a request asking for it reads no list.
   */
  viewCurrent(name: string, dependsOn: readonly DerivedDependency[]): boolean {
    const view = this.views.get(name);
    return (
      view !== undefined && this.now() - view.builtAt <= this.options.ttlMs && dependsOn.every((d) => view.epochs[d] === this.epochs[d])
    );
  }

  /** A department's cached direct members, without reading upstream. */
  peekMembers(departmentId: number): WeComUser[] | undefined {
    const entry = this.lru.peek(this.key('members', departmentId), { allowStale: true });
    return entry?.kind === 'members' ? entry.value : undefined;
  }

  /** A cached member (null: known not to exist), undefined when a read would go upstream. */
  peekUser(userid: string): WeComUser | null | undefined {
    const id = userKey(userid);
    const entry = this.lru.peek(this.key('user', id));
    return this.listedMember(id) ?? (entry?.kind === 'user' ? entry.value : undefined);
  }

  /** A member as a fresh cached list holds it. */
  private listedMember(id: string): WeComUser | undefined {
    const user = this.listed.get(id);
    if (!user) return undefined;
    for (const departmentId of user.department) if (this.lru.peek(this.key('members', departmentId))) return user;
    return undefined;
  }

  /** A list left the cache: its members stay listed only as another cached list holds them. */
  private unlist(departmentId: number, users: readonly WeComUser[]): void {
    for (const user of users) {
      const id = userKey(user.userid);
      if (this.listed.get(id) !== user) continue;
      const other = this.cachedCopy(user, departmentId, false);
      if (other) this.listed.set(id, other);
      else this.listed.delete(id);
    }
  }

  private key(kind: EntryKind, id?: string | number): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }

  /** One read through the LRU: a hit, a join of the read in flight, a stale value, or a fetch. */
  private async read(kind: EntryKind, key: string, loader: () => Promise<CacheEntry>): Promise<CacheEntry> {
    for (let attempt = 1; attempt <= MAX_READS; attempt++) {
      const status: LRUCache.Status<string, CacheEntry, Loader> = {};
      const pending = this.lru.fetch(key, { allowStale: this.mayServeStale(key), context: { kind, load: loader }, status });
      // fetchMethod runs synchronously inside fetch(), so the flight (new or joined) is known now.
      const flight = this.flights.get(key);
      this.count(status);
      let entry: CacheEntry | undefined;
      try {
        entry = await pending;
      } catch (err) {
        if (flight?.aborted) continue;
        throw err;
      }
      if (entry) return entry;
      // undefined: the fetch was aborted under us (evicted while in flight); read again.
    }
    // The cache kept dropping this key (far too small for the load): answer uncached.
    return loader();
  }

  private count(status: LRUCache.Status<string, CacheEntry, Loader>): void {
    if (status.fetch === 'hit') this.counters.hits++;
    else if (status.fetch === 'miss') this.counters.misses++;
    else if (status.fetch === 'inflight') this.counters.joined++;
    if (status.returnedStale) this.counters.stale++;
  }

  /** An expired value may be served while it refreshes, unless it is known wrong or too old. */
  private mayServeStale(key: string): boolean {
    if (this.flights.get(key)?.noStale) return false;
    const entry = this.lru.peek(key, { allowStale: true });
    return entry !== undefined && this.now() - entry.fetchedAt <= this.options.ttlMs + this.options.staleMs;
  }

  /** lru-cache's fetchMethod: one upstream read, again if an invalidation overtook it. */
  private async load(
    key: string,
    stale: CacheEntry | undefined,
    signal: AbortSignal,
    fetchOptions: LRUCache.FetcherFetchOptions<string, CacheEntry, Loader>,
    loader: Loader,
  ): Promise<CacheEntry> {
    const flight: Flight = { kind: loader.kind, dirty: false, noStale: false, aborted: false };
    this.flights.set(key, flight);
    // An abort of a read that failed must not make readers read again (lru-cache also aborts a
    // failed read when it drops the key). An abort after a read succeeded must: lru-cache settles
    // the fetch a few microtasks after this method returns, and a key evicted in between rejects
    // its readers with the abort reason.
    const onAbort = () => (flight.aborted = true);
    signal.addEventListener('abort', onAbort, { once: true });
    let failed = true;
    try {
      for (let attempt = 1; ; attempt++) {
        flight.dirty = false;
        this.counters.loads++;
        const fresh = await loader.load();
        failed = false;
        if (signal.aborted) return fresh;
        if (flight.dirty && attempt < MAX_ATTEMPTS) continue;
        if (flight.dirty) {
          // Still overtaken by changes: hand it to the readers waiting, but store it expired.
          fetchOptions.ttl = 1;
          return { ...fresh, fetchedAt: Number.NEGATIVE_INFINITY };
        }
        let result = fresh;
        if (stale && stale.kind === fresh.kind) {
          // A refresh that found the same data keeps the old objects, and the views built on them.
          if (isDeepStrictEqual(stale.value, fresh.value)) result = { ...stale, fetchedAt: fresh.fetchedAt };
          else {
            const dependency = dependencyOf(fresh.kind);
            if (dependency) this.bump(dependency);
          }
        }
        if (result.kind === 'members' && result === fresh) this.shareMembers(result.departmentId, result.value);
        // A value shared by another instance has less than a full TTL left.
        const age = this.now() - result.fetchedAt;
        if (age > 0) fetchOptions.ttl = Math.max(1, this.options.ttlMs - age);
        return result;
      }
    } finally {
      if (failed) signal.removeEventListener('abort', onAbort);
      if (this.flights.get(key) === flight) this.flights.delete(key);
    }
  }

  /**
   * A member of several departments comes back in each department's list; the cache keeps one
   * object for them all (4,100 of the large seed's 50,400 members, 3.6 MB). Replaced in place: a
   * freshly read list is not shared yet.
   */
  private shareMembers(departmentId: number, users: WeComUser[]): void {
    for (let i = 0; i < users.length; i++) {
      const user = users[i]!;
      if (user.department.length < 2) continue;
      const known = this.cachedCopy(user, departmentId, true);
      if (known) users[i] = known;
    }
  }

  /** The same member in another department's cached list (`equal`: only a copy equal in every field). */
  private cachedCopy(user: WeComUser, listedIn: number, equal: boolean): WeComUser | undefined {
    for (const departmentId of user.department) {
      if (departmentId === listedIn) continue;
      const entry = this.lru.peek(this.key('members', departmentId), { allowStale: true });
      const other = entry?.kind === 'members' ? entry.value.find((u) => u.userid === user.userid) : undefined;
      if (other && (!equal || isDeepStrictEqual(other, user))) return other;
    }
    return undefined;
  }

  private execute(plan: InvalidationPlan): void {
    if (plan.everything) {
      // dump() lists expired entries too (keys() skips them), and those still being refreshed.
      for (const [key] of this.lru.dump()) this.drop(key);
      for (const flight of this.flights.values()) this.markDirty(flight);
      this.bump('departments', 'members', 'tags');
      this.views.clear();
      return;
    }
    if (plan.tree) {
      this.drop(this.key('departments'));
      this.bump('departments');
    }
    if (plan.tagList) this.drop(this.key('tags'));
    for (const id of plan.tags) this.drop(this.key('tag', id));
    if (plan.tagList || plan.tags.size) this.bump('tags');
    for (const id of plan.users) {
      this.drop(this.key('user', id));
      this.listed.delete(id);
    }

    const lists = plan.members === 'all' ? this.registry.cachedMemberLists() : [...plan.members];
    for (const id of lists) this.drop(this.key('members', id));
    if (plan.memberData || lists.length) this.bump('members');
    // Lists and members in flight have unknown content: any of them may predate the change.
    for (const flight of this.flights.values()) {
      if (flight.kind === 'members' && (plan.memberData || plan.members === 'all')) this.markDirty(flight);
      if (flight.kind === 'user' && plan.references) this.markDirty(flight);
    }
  }

  /**
   * Removes a key; one with a read in flight is not deleted (lru-cache would fail the readers
   * waiting on it) but marked, so the read is made again and its stale value is not served.
   */
  private drop(key: string): void {
    const flight = this.flights.get(key);
    if (flight) this.markDirty(flight);
    else this.lru.delete(key);
  }

  private markDirty(flight: Flight): void {
    flight.dirty = true;
    flight.noStale = true;
  }

  private bump(...dependencies: DerivedDependency[]): void {
    for (const d of dependencies) this.epochs[d]++;
  }
}

/** Keys name their kind, so an entry of another kind under a key is a bug, not data. */
function ofKind<K extends EntryKind>(entry: CacheEntry, kind: K): EntryOf<K> {
  if (entry.kind !== kind) throw new Error(`directory cache: expected a ${kind} entry, found ${entry.kind}`);
  // Narrowed by the check above; TypeScript cannot narrow a union by a generic discriminant.
  return entry as EntryOf<K>;
}

/** The derived views a kind of read feeds (single members feed none: views are built from lists). */
function dependencyOf(kind: EntryKind): DerivedDependency | undefined {
  if (kind === 'departments') return 'departments';
  if (kind === 'members') return 'members';
  if (kind === 'tags' || kind === 'tag') return 'tags';
  return undefined;
}

/** Defaults of the service (CACHE_TTL_SECONDS, CACHE_STALE_SECONDS, CACHE_MAX_ENTRIES in config.ts). */
export const DEFAULT_CACHE_SETTINGS: Omit<DirectoryCacheOptions, 'corpId' | 'now'> = {
  ttlMs: 300_000,
  staleMs: 60_000,
  maxEntries: 100_000,
};
