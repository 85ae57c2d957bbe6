import type { WeComDepartment } from '../wecom/departments.ts';
import type { WeComUser } from '../wecom/users.ts';
import type { WeComTag, WeComTagSummary } from '../wecom/tags.ts';

/**
 * What the directory cache holds: one entry per upstream read, tagged with its kind so the
 * reverse indexes (registry.ts) and the invalidation plan (invalidation.ts) can read it.
 */
export type CacheEntry =
  | { kind: 'departments'; value: WeComDepartment[]; fetchedAt: number }
  | { kind: 'members'; departmentId: number; value: WeComUser[]; fetchedAt: number }
  | { kind: 'user'; userKey: string; value: WeComUser | null; fetchedAt: number }
  | { kind: 'tags'; value: WeComTagSummary[]; fetchedAt: number }
  | { kind: 'tag'; tagId: number; value: WeComTag | null; fetchedAt: number };

export type EntryKind = CacheEntry['kind'];
export type EntryOf<K extends EntryKind> = Extract<CacheEntry, { kind: K }>;
