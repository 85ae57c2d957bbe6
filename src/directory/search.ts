import { pinyin } from 'pinyin-pro';
import { LRUCache } from 'lru-cache';
import type { WeComUser } from '../wecom/users.ts';
import { yieldIfBusy } from '../ops/yield.ts';
import { atMostEntries } from '../cache/lru-bounds.ts';

/**
 * Separates the texts of one member in its search key. A query never holds it (it is a control
 * character), so "\u0001q\u0001" in a key is an exact match of one text and "\u0001q" a prefix.
 */
const SEP = '\u0001';

const HAN = /\p{Script=Han}/u;
/** Members indexed between two chances for other requests while the index is built. */
const BUILD_CHUNK = 2_000;

/**
 * Pinyin keys of names seen before ("\u0001zhangsan\u0001zs\u0001", or "" for a name without
 * Chinese): one string per distinct name, shared by every member of that name. The index is
 * rebuilt after member changes, and converting 50,000 names costs most of a second while looking
 * them up costs milliseconds.
 */
const pinyinByName = new LRUCache<string, string>(atMostEntries(200_000));

function pinyinKey(name: string): string {
  let key = pinyinByName.get(name);
  if (key === undefined) pinyinByName.set(name, (key = computePinyinKey(name)));
  return key;
}

function computePinyinKey(name: string): string {
  if (!HAN.test(name)) return '';
  // surname: 'head' reads the first characters as a surname (单 shan, 曾 zeng, 欧阳 ouyang).
  const syllables = pinyin(name, { toneType: 'none', type: 'array', surname: 'head', nonZh: 'removed', v: true });
  if (!syllables.length) return '';
  const full = syllables.join('').toLowerCase();
  const initials = syllables
    .map((s) => s[0])
    .join('')
    .toLowerCase();
  return `${SEP}${full}${SEP}${initials}${SEP}`;
}

/**
 * A member's search key: its lower-cased texts (userid, name, alias, English name, position), then
 * its name's pinyin. Lower-casing the whole concatenation leaves one flat string: a concatenated
 * (cons) string would be flattened by the first search that reads it, a copy per member made while
 * someone waits for an answer.
 */
function searchKey(user: WeComUser): string {
  let key = SEP;
  for (const text of [user.userid, user.name, user.alias, user.englishName, user.position]) if (text) key += text + SEP;
  const py = pinyinKey(user.name);
  return (py ? key + py.slice(SEP.length) : key).toLowerCase();
}

/** How well a member matched: lower is better; the order the schema promises. */
const EXACT = 0;
const PREFIX = 1;
const SUBSTRING = 2;
const NO_MATCH = 3;

/** A query's three patterns, made once per search rather than once per member. */
interface Patterns {
  text: string;
  prefix: string;
  exact: string;
}

const patternsOf = (q: string): Patterns => ({ text: q, prefix: SEP + q, exact: SEP + q + SEP });

function rankIn(key: string, p: Patterns): number {
  if (!key.includes(p.text)) return NO_MATCH;
  if (key.includes(p.exact)) return EXACT;
  if (key.includes(p.prefix)) return PREFIX;
  return SUBSTRING;
}

const byName = new Intl.Collator('zh-Hans-CN');

/** A gram's posting list while the index is built: members counted, then filled in. */
interface GramSlot {
  count: number;
  /** The last member counted or filled (a member holding a gram twice is listed once). */
  last: number;
  list: Int32Array;
  filled: number;
}
const EMPTY = new Int32Array(0);

/**
 * People-picker search over a snapshot of the directory: case-insensitive matches on userid,
 * name, alias, English name and position, plus pinyin (full and initials) of Chinese names;
 * exact matches rank before prefixes, prefixes before substrings, then by name (Chinese
 * collation), then userid.
 *
 * Built for a keystroke each few milliseconds on 200,000 members: members are held in result
 * order (sorted once, at build), each with one search key string (its texts and its name's
 * pinyin). A query looks only at the members whose key holds its rarest pair of characters (or
 * its one character): a posting list per character and pair, built with the index. Matches
 * go into three buckets (exact, prefix, substring) already in order: no sorting per query.
 */
export class UserSearchIndex {
  private constructor(
    private readonly users: readonly WeComUser[],
    /** Per member: its lower-cased texts, then its name's pinyin, each between separators. */
    private readonly keys: readonly string[],
    /** Per character and pair of consecutive characters: the members whose key holds it, ascending. */
    private readonly grams: ReadonlyMap<string, Int32Array>,
  ) {}

  /** Builds the index, letting other requests in between chunks (src/ops/yield.ts). */
  static async build(users: Iterable<WeComUser>): Promise<UserSearchIndex> {
    const list = [...users];
    // Sort by name once: distinct names are far fewer than members, so the collator runs on those.
    const names = [...new Set(list.map((u) => u.name))].sort(byName.compare);
    const nameRank = new Map(names.map((n, i) => [n, i]));
    const keyed = list.map((user) => ({ user, rank: nameRank.get(user.name)!, id: user.userid.toLowerCase() }));
    keyed.sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const sorted: WeComUser[] = [];
    const keys: string[] = [];
    // Two passes over the keys: count each gram's members, then fill typed arrays of exactly that
    // size. Growing plain arrays instead left ~150 MB of garbage behind on the huge seed (12 million
    // postings), which the process kept as RSS.
    const slots = new Map<string, GramSlot>();
    // Per character and pair anywhere in a text; per character and pair a text starts with
    // ("\u0001z", "\u0001zh"); per text of one or two characters ("\u0001zs\u0001"). The last two
    // rank the matches of short queries without reading keys (broadMatches).
    const eachGram = (key: string, visit: (gram: string) => void) => {
      for (let c = 0; c < key.length; c++) {
        if (key[c] === SEP) continue;
        const starts = key[c - 1] === SEP;
        visit(key[c]!);
        if (starts) visit(key.slice(c - 1, c + 1));
        if (key[c + 1] === SEP) {
          if (starts) visit(key.slice(c - 1, c + 2));
          continue;
        }
        if (c + 1 >= key.length) continue;
        visit(key.slice(c, c + 2));
        if (starts) visit(key.slice(c - 1, c + 2));
        if (starts && key[c + 2] === SEP) visit(key.slice(c - 1, c + 3));
      }
    };
    for (let i = 0; i < keyed.length; i++) {
      if (i % BUILD_CHUNK === 0) await yieldIfBusy();
      const { user } = keyed[i]!;
      sorted.push(user);
      const key = searchKey(user);
      keys.push(key);
      eachGram(key, (gram) => {
        const slot = slots.get(gram);
        if (!slot) slots.set(gram, { count: 1, last: i, list: EMPTY, filled: 0 });
        else if (slot.last !== i) {
          slot.count++;
          slot.last = i;
        }
      });
    }
    for (const slot of slots.values()) {
      slot.list = new Int32Array(slot.count);
      slot.last = -1;
    }
    for (let i = 0; i < keys.length; i++) {
      if (i % BUILD_CHUNK === 0) await yieldIfBusy();
      eachGram(keys[i]!, (gram) => {
        const slot = slots.get(gram)!;
        if (slot.last === i) return;
        slot.last = i;
        slot.list[slot.filled++] = i;
      });
    }
    const grams = new Map<string, Int32Array>();
    for (const [gram, slot] of slots) grams.set(gram, slot.list);
    return new UserSearchIndex(sorted, keys, grams);
  }

  /** The members that may hold `text`: those whose key holds its rarest pair of characters (or its one character). */
  private candidates(text: string): Int32Array {
    if (text.length === 1) return this.grams.get(text) ?? EMPTY;
    let best: Int32Array | undefined;
    for (let c = 0; c + 1 < text.length; c++) {
      const list = this.grams.get(text.slice(c, c + 2));
      if (!list) return EMPTY;
      if (!best || list.length < best.length) best = list;
    }
    return best ?? EMPTY;
  }

  get size(): number {
    return this.users.length;
  }

  /** Matching users, best first; `accept` narrows the candidates (e.g. to a department subtree). */
  search(query: string, accept?: (user: WeComUser) => boolean): UserList {
    const q = query.trim().toLowerCase();
    if (!q || q.includes(SEP)) return [];
    const compact = q.replace(/\s+/g, '');
    if (!accept && compact === q && q.length <= 2) return this.broadMatches(q);
    const patterns = patternsOf(q);
    // "zhang san" finds the pinyin "zhangsan": with spaces, the query is also tried without them.
    const spaceless = compact && compact !== q ? patternsOf(compact) : undefined;
    const buckets: WeComUser[][] = [[], [], []];
    const visit = (i: number) => {
      const key = this.keys[i]!;
      let rank = rankIn(key, patterns);
      if (spaceless && rank !== EXACT) rank = Math.min(rank, rankIn(key, spaceless));
      if (rank === NO_MATCH) return;
      const user = this.users[i]!;
      if (!accept || accept(user)) buckets[rank]!.push(user);
    };
    const forQuery = this.candidates(q);
    const forSpaceless = spaceless ? this.candidates(compact) : EMPTY;
    // Both lists ascend: merged, each member is visited once and in result order.
    let a = 0;
    let b = 0;
    while (a < forQuery.length || b < forSpaceless.length) {
      const x = a < forQuery.length ? forQuery[a]! : Infinity;
      const y = b < forSpaceless.length ? forSpaceless[b]! : Infinity;
      const next = Math.min(x, y);
      if (x === next) a++;
      if (y === next) b++;
      visit(next);
    }
    return buckets[EXACT]!.concat(buckets[PREFIX]!, buckets[SUBSTRING]!);
  }

  /**
   * The first keystrokes ("z", "zh", "张") match a fifth of a corp or more: read from the posting
   * lists alone. Every member holding a one- or two-character query matches it; those with a text
   * that is the query rank first, then those with a text starting with it, then the rest.
   */
  private broadMatches(q: string): UserList {
    const all = this.grams.get(q) ?? EMPTY;
    const starts = this.grams.get(SEP + q) ?? EMPTY;
    const whole = this.grams.get(SEP + q + SEP) ?? EMPTY;
    return new RankedHits(this.users, [whole, starts, all]);
  }
}

/**
 * Members in order, as a page is cut from them (src/schema/user-page.ts): a department's list
 * (an array), or search hits in rank order (an array, or ranked posting lists cut only where a
 * page asks).
 */
export interface UserList {
  readonly length: number;
  slice(start: number, end: number): WeComUser[];
}

/**
 * Hits as tiers of posting lists, each holding the one before it (whole ⊆ starts ⊆ all): the
 * members of `all` in rank order are those of the first tier, then each tier's others.
 */
class RankedHits implements UserList {
  constructor(
    private readonly users: readonly WeComUser[],
    private readonly tiers: readonly Int32Array[],
  ) {}

  get length(): number {
    return this.tiers.at(-1)!.length;
  }

  slice(start: number, end: number): WeComUser[] {
    const out: WeComUser[] = [];
    let rank = 0;
    for (let t = 0; t < this.tiers.length && rank < end; t++) {
      const list = this.tiers[t]!;
      const earlier = t ? this.tiers[t - 1]! : EMPTY;
      let e = 0;
      for (let i = 0; i < list.length && rank < end; i++) {
        const member = list[i]!;
        while (e < earlier.length && earlier[e]! < member) e++;
        if (e < earlier.length && earlier[e] === member) continue;
        if (rank++ >= start) out.push(this.users[member]!);
      }
    }
    return out;
  }
}
