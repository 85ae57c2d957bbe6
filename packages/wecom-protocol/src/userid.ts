/**
 * WeCom userids are case-insensitive (user/get answers `ZhangSan` and `zhangsan` alike, and a
 * create that differs only in case is a duplicate), so every map or set keyed by userid uses this key.
 */
export const userKey = (userid: string): string => userid.toLowerCase();
