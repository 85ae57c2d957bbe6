/**
 * WeCom's snake_case on the wire, camelCase on our side. Conversion is by key only: values are
 * copied as they are, so `order` values up to 2^32 − 1 stay exact numbers and string ids stay
 * strings. WeCom's own run-together names (`parentid`, `tagname`, `userlist`) have no underscore
 * and stay as they are in both directions.
 */

/** A JSON object as WeCom sends it. */
export type WireObject = Record<string, unknown>;

const camelCache = new Map<string, string>();
const snakeCache = new Map<string, string>();

/** `is_leader_in_dept` → `isLeaderInDept`. */
export function camelKey(key: string): string {
  let out = camelCache.get(key);
  if (out === undefined) {
    out = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    camelCache.set(key, out);
  }
  return out;
}

/** `isLeaderInDept` → `is_leader_in_dept`. */
export function snakeKey(key: string): string {
  let out = snakeCache.get(key);
  if (out === undefined) {
    out = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeCache.set(key, out);
  }
  return out;
}

function convert(value: unknown, key: (k: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => convert(v, key));
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[key(k)] = convert(v, key);
    }
    return out;
  }
  return value;
}

/**
 * A response (or part of one) with camelCase keys. The result type is the caller's claim about
 * the shape, taken from the fact sheet; WeCom sends JSON, so only the keys change.
 */
export function fromWire<T>(value: unknown): T {
  return convert(value, camelKey) as T;
}

/** A request body with snake_case keys; `undefined` fields are dropped (WeCom leaves them unchanged). */
export function toWire(value: object): WireObject {
  return convert(value, snakeKey) as WireObject;
}

/** Removes the envelope fields from a response. */
export function withoutEnvelope(wire: WireObject): WireObject {
  const { errcode: _errcode, errmsg: _errmsg, ...rest } = wire;
  return rest;
}

/** Reads a field that must be a string (e.g. `jobid`), with a clear error if WeCom sent something else. */
export function stringField(wire: WireObject, name: string): string {
  const v = wire[name];
  if (typeof v !== 'string') throw new TypeError(`WeCom response field ${name} is not a string`);
  return v;
}

export function numberField(wire: WireObject, name: string): number {
  const v = wire[name];
  if (typeof v !== 'number') throw new TypeError(`WeCom response field ${name} is not a number`);
  return v;
}

export function arrayField<T>(wire: WireObject, name: string): T[] {
  const v = wire[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new TypeError(`WeCom response field ${name} is not an array`);
  return v as T[];
}
