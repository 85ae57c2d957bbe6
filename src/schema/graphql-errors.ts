/** The GraphQL errors a caller sees outside mutation results: WeCom failures of reads, and bad input. */
import { GraphQLError } from 'graphql';
import { WeComApiError, WeComError, type ErrorCategory } from '../wecom/errors.ts';

/** `extensions.code` for each kind of upstream failure. */
const CODE_BY_CATEGORY: Record<ErrorCategory, string> = {
  auth: 'WECOM_UNAVAILABLE',
  config: 'WECOM_MISCONFIGURED',
  permission: 'WECOM_PERMISSION_DENIED',
  'not-found': 'WECOM_NOT_FOUND',
  'invalid-input': 'WECOM_BAD_REQUEST',
  conflict: 'WECOM_CONFLICT',
  'rate-limit': 'WECOM_RATE_LIMITED',
  unavailable: 'WECOM_UNAVAILABLE',
  'client-bug': 'WECOM_ERROR',
};

/**
 * A WeCom failure as callers may see it: the endpoint, errcode and its meaning, never WeCom's raw
 * errmsg (it carries the server's IP) and never a token. Non-WeCom errors return undefined and stay
 * masked by Yoga.
 */
export function upstreamGraphQLError(error: unknown, path?: readonly (string | number)[]): GraphQLError | undefined {
  if (!(error instanceof WeComError)) return undefined;
  if (error instanceof WeComApiError) {
    const what = error.meaning ?? 'request refused';
    return new GraphQLError(
      `WeCom ${error.endpoint} failed with errcode ${error.errcode}: ${what}${error.hint ? ` (${error.hint})` : ''}`,
      {
        path,
        extensions: { code: CODE_BY_CATEGORY[error.category], wecomErrcode: error.errcode, endpoint: error.endpoint },
      },
    );
  }
  const code =
    error.kind === 'config' ? 'WECOM_MISCONFIGURED' : error.kind === 'outcome-unknown' ? 'WECOM_OUTCOME_UNKNOWN' : 'WECOM_UNAVAILABLE';
  const message = error.kind === 'config' ? error.message : `WeCom ${error.endpoint ?? ''} is unavailable (${error.kind})`;
  return new GraphQLError(message, { path, extensions: { code, endpoint: error.endpoint } });
}

/** A caller mistake, named precisely; shown to the caller (it is not masked). */
export function badInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) } });
}
