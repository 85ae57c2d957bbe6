/**
 * API-level failures of the emulator. WeCom answers them with HTTP 200 and `{errcode, errmsg}`;
 * a handler throws `fail(code)` and the dispatcher writes the envelope.
 */

/** Short texts WeCom sends (observed or documented, docs/wecom-api.md §0 and §10). */
const ERRMSG: Record<number, string> = {
  [-1]: 'system busy',
  40001: 'invalid credential',
  40003: 'invalid userid',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid file size',
  40007: 'invalid media_id',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40031: 'invalid userid list',
  40032: 'invalid userid list size',
  40035: 'invalid parameter',
  40056: 'invalid agentid',
  40058: 'invalid Request Parameter',
  40063: 'some parameters are empty',
  40066: 'invalid department list',
  40068: 'invalid tagid',
  40070: 'all list invalid',
  40071: 'tag name already exists',
  40072: 'invalid tag name length',
  40073: 'invalid openid',
  40088: 'invalid jobid',
  40089: 'job result expired',
  40092: 'invalid import file content',
  41001: 'access_token missing',
  41002: 'corpid missing',
  41004: 'corpsecret missing',
  41006: 'media_id missing',
  41009: 'userid missing',
  41011: 'agentid missing',
  41017: 'tagid missing',
  41018: 'tagname missing',
  41019: 'department missing',
  42001: 'access_token expired',
  43004: 'user not bound to wechat or plugin not followed',
  44001: 'empty media data',
  45001: 'media size out of limit',
  45009: 'api freq out of limit',
  45024: 'account number out of limit',
  45026: 'delete user number out of protection limit',
  45033: 'api concurrent out of limit',
  46004: 'user not exist',
  48002: 'api forbidden',
  60001: 'invalid department name length',
  60003: 'department not found',
  60004: 'parent department not found',
  60005: 'department contains members',
  60006: 'department contains sub-departments',
  60007: 'not allow to delete root department',
  60008: 'department existed',
  60009: 'invalid department name',
  60010: 'department cycle',
  60011: 'no privilege to access/modify contact/party/agent',
  60020: 'not allow to access from your ip',
  60102: 'userid existed',
  60103: 'mobile invalid',
  60104: 'mobile existed',
  60105: 'email invalid',
  60106: 'email existed',
  60110: 'department count out of limit',
  60111: 'userid not found',
  60112: 'invalid username',
  60123: 'invalid party id',
  60124: 'invalid parent party id',
  60125: 'invalid party name',
  60127: 'department missing',
  60129: 'mobile and email both empty',
  60132: 'is_leader_in_dept size not match department size',
  60143: 'biz_mail invalid',
  60145: 'biz_mail existed',
  81001: 'department node count out of limit',
  81002: 'department depth out of limit',
  81003: 'tag node count out of limit',
  81011: 'no privilege to operate tag',
  81014: 'too many users or parties in one call',
  90100: 'invalid external attr type',
  90101: 'invalid external attr text length',
  90102: 'invalid external attr web title length',
  90103: 'invalid external attr web url',
  90104: 'invalid external attr miniprogram title length',
  90105: 'invalid external attr miniprogram pagepath',
  90106: 'invalid external attr parameter',
  301002: 'no privilege to access/modify agent',
  301005: 'not allow to delete creator',
  301012: 'invalid position',
  301013: 'invalid telephone',
  301014: 'invalid english_name',
  301015: 'invalid avatar mediaid',
  301036: 'not allow to modify userid',
  302003: 'duplicate userid in file',
  302004: 'invalid organization structure in file',
  302005: 'system error, retry',
  302006: 'duplicate partyid in file',
  302007: 'duplicate department name in file',
  302008: 'another import job is running',
};

export class WeComFault extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`);
  }
}

/** Builds the failure for `errcode`, with WeCom's short text and an optional detail. */
export function fail(errcode: number, detail?: string): WeComFault {
  const text = ERRMSG[errcode] ?? 'error';
  return new WeComFault(errcode, detail ? `${text}: ${detail}` : text);
}

/**
 * The suffix WeCom appends to most error texts (observed). The hint is an opaque id; clients must
 * not parse any of it.
 */
export function decorateErrmsg(errcode: number, errmsg: string, hint: string): string {
  return `${errmsg}, hint: [${hint}], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${errcode}`;
}
