/**
 * WeCom's documented limits and input rules (shared/wecom-api.md). One source of truth for the
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
 * documented 100 (unconfirmed which one the server enforces, wecom-api.md §13).
 */
export const USER_DEPARTMENTS_MAX = 100;
export const DIRECT_LEADERS_MAX = 5;
export const EXTATTR_TEXT_MAX_CHARS = 64;
export const EXTATTR_WEB_TITLE_MAX_CHARS = 12;

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

export const LIST_ID_LIMIT_MIN = 1;
export const LIST_ID_LIMIT_MAX = 10_000;

export const GETUSERID_MOBILE_MIN_BYTES = 5;
export const GETUSERID_MOBILE_MAX_BYTES = 32;
export const ACTIVE_STAT_MAX_DAYS_BACK = 30;

export const TOKEN_EXPIRES_IN_SECONDS = 7_200;

/** Per corp, per API: 10,000 calls a minute (§11). */
export const CORP_API_CALLS_PER_MINUTE = 10_000;

export const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');
/** Length in user-perceived characters (code points), as WeCom counts "characters". */
export const charLength = (s: string): number => [...s].length;

export function isValidUserid(userid: string): boolean {
  return (
    userid.length > 0 && byteLength(userid) <= USERID_MAX_BYTES && USERID_PATTERN.test(userid)
  );
}

export function isValidOrder(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= ORDER_MAX;
}

export function isValidEmail(email: string): boolean {
  const len = byteLength(email);
  return len >= EMAIL_MIN_BYTES && len <= EMAIL_MAX_BYTES && EMAIL_PATTERN.test(email);
}
