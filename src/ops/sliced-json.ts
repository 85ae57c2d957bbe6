import { yieldIfBusy } from './yield.ts';

/**
 * Levels of objects and arrays walked before a value is handed to JSON.stringify whole: deep
 * enough that a 2,000-department tree is serialized one department at a time, shallow enough
 * that a member's fields are not serialized one by one.
 */
const SLICED_DEPTH = 7;

/**
 * JSON.stringify for big GraphQL answers, in slices: the same text, but the event loop gets a
 * turn whenever a slice has run longer than SLICE_MS (ops/yield.ts), so a 3 MB answer does not
 * hold every other request for the whole of its serialization.
 *
 * Execution results are plain data (objects, arrays, strings, numbers, booleans, null); anything
 * with a `toJSON` (an error) is serialized whole, as JSON.stringify would.
 */
export async function stringifySliced(value: unknown): Promise<string> {
  const parts: string[] = [];
  await append(value, SLICED_DEPTH, parts);
  return parts.join('');
}

async function append(value: unknown, depth: number, parts: string[]): Promise<void> {
  if (depth === 0 || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    parts.push(JSON.stringify(value) ?? 'null');
    await yieldIfBusy();
    return;
  }
  if (Array.isArray(value)) {
    parts.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) parts.push(',');
      const item: unknown = value[i];
      // As JSON.stringify: what JSON cannot hold is null inside an array.
      await append(item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : item, depth - 1, parts);
    }
    parts.push(']');
    return;
  }
  parts.push('{');
  let first = true;
  for (const [key, item] of Object.entries(value)) {
    // As JSON.stringify: such properties are left out of an object.
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    parts.push(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
    first = false;
    await append(item, depth - 1, parts);
  }
  parts.push('}');
}
