/**
 * WeCom's documented limits and input rules (docs/wecom-api.md). One source of truth for the
 * emulator, which enforces them, and for the service, which checks input before spending quota.
 */

/** `userid`: 1–64 bytes of digits, letters, `_ - @ .`, starting with a digit or a letter (§3.1). */
export const USERID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_\-@.]*$/;
export const USERID_MAX_BYTES = 64;

/** Member `name` and `alias`: 1–64 UTF-8 characters. */
export const USER_NAME_MAX_CHARS = 64;
export const ALIAS_MAX_CHARS = 64;
/** `mobile`: at most 32 characters of digits, `+`, `-` (and the space of "+86 138…"). */
export const MOBILE_PATTERN = /^[0-9+\- ]{1,32}$/;
/** `email` and `biz_mail`: 6–64 bytes. */
export const EMAIL_MIN_BYTES = 6;
export const EMAIL_MAX_BYTES = 64;
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** `telephone`: at most 32 bytes of digits, `-`, `+`, `,`. */
export const TELEPHONE_PATTERN = /^[0-9+\-,]{1,32}$/;
export const POSITION_MAX_CHARS = 128;
export const ADDRESS_MAX_CHARS = 128;
export const EXTERNAL_POSITION_MAX_CHARS = 12;
/**
 * Departments per member. The docs say 100, error 60110 says 20: the emulator enforces the
 * documented 100 (unconfirmed which one the server enforces, docs/wecom-api.md §13).
 */
export const USER_DEPARTMENTS_MAX = 100;
export const DIRECT_LEADERS_MAX = 5;
export const EXTATTR_TEXT_MAX_CHARS = 64;
export const EXTATTR_WEB_TITLE_MAX_CHARS = 12;
/** `external_profile.external_attr`: text values and titles at most 12 UTF-8 characters (90101/90102/90104). */
export const EXTERNAL_ATTR_TEXT_MAX_CHARS = 12;
export const EXTERNAL_ATTR_TITLE_MAX_CHARS = 12;
/** Legacy `english_name`: 1–64 bytes of letters, digits, `.`, `-`, space, `_` (301014). */
export const ENGLISH_NAME_PATTERN = /^[A-Za-z0-9.\- _]+$/;
export const ENGLISH_NAME_MAX_BYTES = 64;

/** WeCom `order` values are uint32: [0, 2^32). Larger sorts first. */
export const ORDER_MAX = 2 ** 32 - 1;
export const INT32_MAX = 2 ** 31 - 1;

export const ROOT_DEPARTMENT_ID = 1;
export const DEPARTMENT_NAME_MAX_CHARS = 32;
/** Characters a department name must not contain (60009). */
export const DEPARTMENT_NAME_FORBIDDEN = /[\\:*?"<>|]/;
export const DEPARTMENT_MAX_DEPTH = 15;
export const DEPARTMENTS_PER_CORP_MAX = 30_000;
/** Sub-departments plus members under one department (81001). */
export const DEPARTMENT_CHILD_NODES_MAX = 30_000;

export const TAG_NAME_MAX_CHARS = 32;
export const TAGS_PER_CORP_MAX = 3_000;
export const TAG_NODES_MAX = 30_000;
export const TAG_USERS_PER_CALL_MAX = 1_000;
export const TAG_PARTIES_PER_CALL_MAX = 100;

export const BATCH_DELETE_MAX = 200;
export const INVITE_USERS_MAX = 1_000;
export const INVITE_PARTIES_MAX = 100;
export const INVITE_TAGS_MAX = 100;

/** `corp/get_join_qrcode` `size_type`: 1 = 171×171, 2 = 399×399, 3 = 741×741, 4 = 2052×2052 (§3.2). */
export const JOIN_QRCODE_SIZE_TYPE_MIN = 1;
export const JOIN_QRCODE_SIZE_TYPE_MAX = 4;
/** A join QR code link stays valid for 7 days. */
export const JOIN_QRCODE_VALID_SECONDS = 7 * 24 * 3600;

export const LIST_ID_LIMIT_MIN = 1;
export const LIST_ID_LIMIT_MAX = 10_000;

export const GETUSERID_MOBILE_MIN_BYTES = 5;
export const GETUSERID_MOBILE_MAX_BYTES = 32;
export const ACTIVE_STAT_MAX_DAYS_BACK = 30;

export const TOKEN_EXPIRES_IN_SECONDS = 7_200;

// ── media/upload (§6.1) ──────────────────────────────────────────────────────
export type MediaType = 'image' | 'voice' | 'video' | 'file';
export const MEDIA_TYPES: readonly MediaType[] = ['image', 'voice', 'video', 'file'];
/** Every uploaded file must be larger than 5 bytes. */
export const MEDIA_MIN_EXCLUSIVE_BYTES = 5;
/** Per-type size caps: image 10 MB (JPG/PNG), voice 2 MB (AMR), video 10 MB (MP4), file 20 MB. */
export const MEDIA_MAX_BYTES: Readonly<Record<MediaType, number>> = {
  image: 10 * 1024 * 1024,
  voice: 2 * 1024 * 1024,
  video: 10 * 1024 * 1024,
  file: 20 * 1024 * 1024,
};
/** A media_id stays valid for 3 days (then 40007). */
export const MEDIA_VALID_SECONDS = 3 * 24 * 3600;

// ── async import (§6) ────────────────────────────────────────────────────────
/** Only the results of the 5 most recent import jobs are kept (40089 for older ones). */
export const IMPORT_JOBS_KEPT = 5;
/**
 * replaceuser's deletion protection (45026): more than 50 deletions that are also more than 20% of
 * the current members, or fewer than 50 deletions that are more than 80% of them.
 */
export const REPLACE_USER_PROTECTION = { people: 50, largeShare: 0.2, smallShare: 0.8 } as const;
/** Since 2024-05, a member file's unknown department id is created under this department. */
export const UNASSIGNED_DEPARTMENT_NAME = '其他（待设置部门）';

// ── async export (§7) ────────────────────────────────────────────────────────
/** `block_size`: records per export file, in [10^4, 10^6], default 10^6. */
export const EXPORT_BLOCK_SIZE_MIN = 10_000;
export const EXPORT_BLOCK_SIZE_MAX = 1_000_000;
export const EXPORT_BLOCK_SIZE_DEFAULT = 1_000_000;
/** Export download links stay valid for 2 hours. */
export const EXPORT_LINK_VALID_SECONDS = 2 * 3600;

/** Per corp, per API: 10,000 calls a minute (§11). */
export const CORP_API_CALLS_PER_MINUTE = 10_000;
/** A minute-level frequency block (45009) lasts 60 s (§11): the window the client waits out. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

export const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');
/** Length in user-perceived characters (code points), as WeCom counts "characters". */
export const charLength = (s: string): number => [...s].length;

export function isValidUserid(userid: string): boolean {
  return userid.length > 0 && byteLength(userid) <= USERID_MAX_BYTES && USERID_PATTERN.test(userid);
}

export function isValidOrder(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= ORDER_MAX;
}

export function isValidEmail(email: string): boolean {
  const len = byteLength(email);
  return len >= EMAIL_MIN_BYTES && len <= EMAIL_MAX_BYTES && EMAIL_PATTERN.test(email);
}
