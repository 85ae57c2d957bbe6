export type SeedSize = 'demo' | 'large';

export interface EmulatorOptions {
  /** Seed of the deterministic generator: the same seed gives the same organisation. */
  seed: number;
  size: SeedSize;
  /**
   * The 2022-08-15 rule: the contacts-sync secret, called from a "new IP", may not read
   * user/get, user/simplelist, user/list, department/list, department/get or the exports.
   */
  restrictContactReads: boolean;
  /** The 2022-06-20 rule: app tokens get no mobile, email, biz_mail, avatar, gender, address, qr_code. */
  withholdSensitiveFields: boolean;
  /** WeCom's per-corp per-API frequency limit (§11); a fault may lower it per path. */
  defaultRateLimitPerMinute: number;
  /** Text appended to error `errmsg` like WeCom's `hint: […]` suffix. */
  decorateErrors: boolean;
}

export const DEFAULT_OPTIONS: EmulatorOptions = {
  seed: 1,
  size: 'demo',
  restrictContactReads: false,
  withholdSensitiveFields: false,
  defaultRateLimitPerMinute: 10_000,
  decorateErrors: true,
};

/**
 * The errcode for a read refused by the 2022-08-15 new-IP rule. The fact sheet does not name it;
 * 48002 ("api forbidden") is the code WeCom uses for an API a token may not call.
 */
export const RESTRICTED_READ_ERRCODE = 48002;
