import { fail } from '../errors.ts';
import { INT32_MAX, isValidOrder } from 'wecom-protocol/limits';

/**
 * Reading request parameters the way WeCom does: GET-style values from the query string,
 * POST values from the JSON body; a malformed value fails with the endpoint's errcode.
 */

const INT_TEXT = /^-?\d+$/;

/** An int32 query parameter; `undefined` when absent or empty. */
export function queryInt(query: URLSearchParams, name: string, errcode: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (!INT_TEXT.test(raw)) throw fail(errcode, `${name} must be an integer`);
  const n = Number(raw);
  if (n < -INT32_MAX - 1 || n > INT32_MAX) throw fail(errcode, `${name} out of range`);
  return n;
}

export function queryString(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  return raw === null || raw === '' ? undefined : raw;
}

/** An int32 JSON field; `undefined` when absent or null. */
export function bodyInt(body: Record<string, unknown>, name: string, errcode: number): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -INT32_MAX - 1 || v > INT32_MAX) {
    throw fail(errcode, `${name} must be a 32-bit integer`);
  }
  return v;
}

/**
 * An optional int field whose 0 means "not set": what SDKs send for a field they were not asked to
 * fill, where 0 is no valid value (department ids, enum codes that start at 1). `undefined` for 0.
 */
export function bodyIntOrUnset(body: Record<string, unknown>, name: string, errcode: number): number | undefined {
  const v = bodyInt(body, name, errcode);
  return v === 0 ? undefined : v;
}

/** A uint32 `order` JSON field; `undefined` when absent. */
export function bodyOrder(body: Record<string, unknown>, name = 'order'): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (!isValidOrder(v)) throw fail(40058, `${name} must be an integer in [0, 2^32)`);
  return v;
}

export function bodyString(body: Record<string, unknown>, name: string, errcode = 40058): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw fail(errcode, `${name} must be a string`);
  return v;
}

/**
 * A flag (`enable`, `to_invite`, `fetch_child`): true/false, or 0/1 as a number or a string, since
 * WeCom reads its documented ints and bools as numbers (docs/emulator-fidelity.md).
 */
export function bodyBool(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1 || v === '0' || v === '1') return v === 1 || v === '1';
  throw fail(40058, `${name} must be true/false or 1/0`);
}

/** A JSON array whose items all pass `check`; `undefined` when absent. */
export function bodyArray<T>(
  body: Record<string, unknown>,
  name: string,
  check: (item: unknown) => item is T,
  errcode = 40058,
): T[] | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(check)) throw fail(errcode, `${name} must be an array of the right type`);
  return v;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= -INT32_MAX - 1 && v <= INT32_MAX;
