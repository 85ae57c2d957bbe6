/**
 * Field options of personal data (mobile, email, bizMail, telephone, address, avatars, QR code,
 * openId): resolved only for callers with `directory:pii`, null for the others (no error, so one
 * query serves both kinds of caller). Spread into the field's options: `t.string({ ...PII, … })`.
 */
export const PII = {
  authScopes: { pii: true },
  unauthorizedResolver: () => null,
} as const;

/** Root lookups by personal data (userByMobile, userByEmail, userByOpenId): FORBIDDEN without `directory:pii`, so they cannot confirm who has a number. */
export const PII_LOOKUP = { authScopes: { pii: true } } as const;
