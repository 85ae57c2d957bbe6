import { promisify } from 'node:util';
import { deflateRaw, inflateRaw, constants } from 'node:zlib';

/**
 * How a directory entry is stored in Redis: JSON, deflated when that pays (member lists repeat
 * the same field names for every member, so they shrink several times over). zlib runs on libuv's
 * thread pool: a 2,000-member list is compressed without holding the event loop.
 *
 * One leading byte says which: `j` plain JSON, `z` raw deflate of the JSON.
 */

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** Below this many bytes of JSON deflate saves too little to be worth a thread-pool round trip. */
const DEFLATE_FROM_BYTES = 512;
const PLAIN = 0x6a; // 'j'
const DEFLATED = 0x7a; // 'z'

export async function encodeEntry(value: unknown): Promise<Buffer> {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  if (json.length < DEFLATE_FROM_BYTES) return Buffer.concat([Buffer.of(PLAIN), json]);
  const packed = await deflate(json, { level: constants.Z_DEFAULT_COMPRESSION });
  return Buffer.concat([Buffer.of(DEFLATED), packed]);
}

export async function decodeEntry(stored: Buffer): Promise<unknown> {
  const body = stored.subarray(1);
  if (stored[0] === PLAIN) return JSON.parse(body.toString('utf8'));
  if (stored[0] === DEFLATED) return JSON.parse((await inflate(body)).toString('utf8'));
  throw new Error('directory entry in Redis has an unknown encoding');
}
