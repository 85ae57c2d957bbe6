import { pinyin } from 'pinyin-pro';
import { LRUCache } from 'lru-cache';
import type { WeComUser } from '../wecom/users.ts';

/** How well a user matched: lower is better. */
const EXACT = 0;
const PREFIX = 1;
const SUBSTRING = 2;
const NO_MATCH = 3;

interface Entry {
  user: WeComUser;
  /** Lower-cased texts a query may match: userid, name, alias, English name, position. */
  texts: string[];
  /** Pinyin of the Chinese name without tones or spaces ("zhangsan") and its initials ("zs"). */
  pinyinKeys: string[];
}

const HAN = /\p{Script=Han}/u;

/**
 * Pinyin of names seen before: the index is rebuilt after every member change, and converting
 * 50,000 names costs most of a second while looking them up costs milliseconds.
 */
const pinyinByName = new LRUCache<string, string[]>({ max: 200_000 });

function pinyinKeys(name: string): string[] {
  let keys = pinyinByName.get(name);
  if (!keys) pinyinByName.set(name, (keys = computePinyinKeys(name)));
  return keys;
}

function computePinyinKeys(name: string): string[] {
  if (!HAN.test(name)) return [];
  // surname: 'head' reads the first characters as a surname (单 shan, 曾 zeng, 欧阳 ouyang).
  const syllables = pinyin(name, { toneType: 'none', type: 'array', surname: 'head', nonZh: 'removed', v: true });
  if (!syllables.length) return [];
  return [syllables.join('').toLowerCase(), syllables.map((s) => s[0]).join('').toLowerCase()];
}

/**
 * People-picker search over a snapshot of the directory: case-insensitive matches on userid,
 * name, alias, English name and position, plus pinyin (full and initials) of Chinese names;
 * exact matches rank before prefixes, prefixes before substrings, then by name.
 */
export class UserSearchIndex {
  private readonly entries: Entry[];

  constructor(users: Iterable<WeComUser>) {
    this.entries = [];
    for (const user of users) {
      const texts = [user.userid, user.name, user.alias, user.englishName, user.position]
        .filter((t): t is string => !!t)
        .map((t) => t.toLowerCase());
      this.entries.push({ user, texts, pinyinKeys: pinyinKeys(user.name) });
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** Matching users, best first; `accept` narrows the candidates (e.g. to a department subtree). */
  search(query: string, accept: (user: WeComUser) => boolean = () => true): WeComUser[] {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    const compact = q.replace(/\s+/g, '');
    const scored: { user: WeComUser; rank: number }[] = [];
    for (const entry of this.entries) {
      let rank = NO_MATCH;
      for (const text of entry.texts) rank = Math.min(rank, rankOf(text, q));
      for (const key of entry.pinyinKeys) rank = Math.min(rank, rankOf(key, compact));
      if (rank < NO_MATCH && accept(entry.user)) scored.push({ user: entry.user, rank });
    }
    scored.sort(
      (a, b) =>
        a.rank - b.rank ||
        a.user.name.localeCompare(b.user.name, 'zh-Hans-CN') ||
        a.user.userid.localeCompare(b.user.userid),
    );
    return scored.map((s) => s.user);
  }
}

function rankOf(text: string, q: string): number {
  if (text === q) return EXACT;
  if (text.startsWith(q)) return PREFIX;
  if (text.includes(q)) return SUBSTRING;
  return NO_MATCH;
}
