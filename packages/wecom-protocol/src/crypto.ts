import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * WeCom's callback crypto (docs/wecom-api.md §9.2–§9.5): the SHA-1 `msg_signature` and the AES scheme
 * used by callbacks and, with the same key and padding, by export files (§7).
 *
 * - AES key = base64decode(EncodingAESKey + "=") (32 bytes, AES-256), CBC, IV = key[0:16];
 * - PKCS#7 padding to a multiple of 32 bytes (pad value 1–32), applied and stripped by hand since
 *   Node's built-in padding works on 16-byte blocks;
 * - message plaintext = random(16) ‖ msg_len(4, big-endian) ‖ msg ‖ receiveid.
 *
 * Errors are `CallbackCryptoError` with a `reason` code; their messages never contain the token,
 * the key or any plaintext.
 */

export type CallbackCryptoReason =
  /** `msg_signature` does not match sha1(sort(token, timestamp, nonce, encrypt)). */
  | 'bad_signature'
  /** The EncodingAESKey is not 43 letters/digits. */
  | 'bad_key'
  /** The ciphertext is not base64 of whole AES blocks. */
  | 'bad_ciphertext'
  /** The PKCS#7 padding (to 32 bytes) is out of range or inconsistent: wrong key or tampered data. */
  | 'bad_padding'
  /** The plaintext is too short for its header, or msg_len runs past the end. */
  | 'bad_length'
  /** The trailing receiveid is not the expected corpid / suite id. */
  | 'wrong_receiveid';

export class CallbackCryptoError extends Error {
  override readonly name = 'CallbackCryptoError';
  constructor(
    readonly reason: CallbackCryptoReason,
    message: string,
  ) {
    super(message);
  }
}

export const isCallbackCryptoError = (err: unknown): err is CallbackCryptoError => err instanceof CallbackCryptoError;

/** An EncodingAESKey is 43 letters or digits (§9.1); with a trailing "=" it is base64 of 32 bytes. */
export const ENCODING_AES_KEY_PATTERN = /^[A-Za-z0-9]{43}$/;
/** WeCom pads to 32-byte blocks, not AES's 16 (§9.4). */
export const WECOM_PAD_BLOCK = 32;
const AES_BLOCK = 16;
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;
const HEADER_BYTES = RANDOM_BYTES + LENGTH_BYTES;
/** Canonical base64 (what WeCom sends); anything else is refused rather than half-decoded. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The 32-byte AES key of an EncodingAESKey; `bad_key` when it is not 43 letters/digits. */
export function aesKeyOf(encodingAESKey: string): Buffer {
  if (typeof encodingAESKey !== 'string' || !ENCODING_AES_KEY_PATTERN.test(encodingAESKey)) {
    throw new CallbackCryptoError('bad_key', 'EncodingAESKey must be 43 letters or digits');
  }
  return Buffer.from(`${encodingAESKey}=`, 'base64');
}

/** Accepts an EncodingAESKey or an already decoded 32-byte key. */
function resolveKey(key: string | Buffer): Buffer {
  if (typeof key === 'string') return aesKeyOf(key);
  if (key.length !== 32) throw new CallbackCryptoError('bad_key', 'an AES key must be 32 bytes');
  return key;
}

/** `msg_signature`: lowercase hex SHA-1 of the four values sorted as strings and concatenated. */
export function signature(token: string, timestamp: string | number, nonce: string | number, encrypt: string): string {
  const parts = [token, String(timestamp), String(nonce), encrypt].sort();
  return createHash('sha1').update(parts.join('')).digest('hex');
}

/** Compares in constant time, so a forger learns nothing from how long a refusal takes. */
export function verifySignature(
  token: string,
  timestamp: string | number,
  nonce: string | number,
  encrypt: string,
  msgSignature: string,
): boolean {
  const expected = Buffer.from(signature(token, timestamp, nonce, encrypt), 'utf8');
  const given = Buffer.from(String(msgSignature), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** PKCS#7 to a multiple of 32 bytes; a full block of 32 when already aligned. */
function pad(data: Buffer): Buffer {
  const n = WECOM_PAD_BLOCK - (data.length % WECOM_PAD_BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

/** Strips PKCS#7 padding of 1–32 bytes, checking every pad byte. */
function unpad(data: Buffer): Buffer {
  const n = data[data.length - 1] ?? 0;
  if (n < 1 || n > WECOM_PAD_BLOCK || n > data.length) {
    throw new CallbackCryptoError('bad_padding', `padding value ${n} is outside 1..${WECOM_PAD_BLOCK} (wrong key or corrupted data)`);
  }
  for (let i = data.length - n; i < data.length; i++) {
    if (data[i] !== n) throw new CallbackCryptoError('bad_padding', 'inconsistent padding bytes (wrong key or corrupted data)');
  }
  return data.subarray(0, data.length - n);
}

/** AES-256-CBC with IV = key[0:16] and 32-byte PKCS#7: the raw layer shared by callbacks and export files. */
export function aesEncrypt(key: string | Buffer, plaintext: Buffer): Buffer {
  const k = resolveKey(key);
  const cipher = createCipheriv('aes-256-cbc', k, k.subarray(0, AES_BLOCK));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(pad(plaintext)), cipher.final()]);
}

/** The inverse of `aesEncrypt`: decrypts and strips the 32-byte PKCS#7 padding. */
export function aesDecrypt(key: string | Buffer, ciphertext: Buffer): Buffer {
  const k = resolveKey(key);
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK !== 0) {
    throw new CallbackCryptoError('bad_ciphertext', `ciphertext of ${ciphertext.length} bytes is not a whole number of AES blocks`);
  }
  const decipher = createDecipheriv('aes-256-cbc', k, k.subarray(0, AES_BLOCK));
  decipher.setAutoPadding(false);
  return unpad(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
}

/** Encrypts a callback message: base64(AES(random ‖ len ‖ message ‖ receiveId)). */
export function encrypt(encodingAESKey: string, message: string, receiveId: string, random: Buffer = randomBytes(RANDOM_BYTES)): string {
  if (random.length !== RANDOM_BYTES) throw new RangeError(`random must be ${RANDOM_BYTES} bytes`);
  const key = aesKeyOf(encodingAESKey);
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(LENGTH_BYTES);
  len.writeUInt32BE(msg.length, 0);
  return aesEncrypt(key, Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')])).toString('base64');
}

export interface DecryptedMessage {
  message: string;
  receiveId: string;
}

/** Decrypts a callback message (`Encrypt` or `echostr`). Does not check the receiveid: see `verifyAndDecrypt`. */
export function decrypt(encodingAESKey: string, base64: string): DecryptedMessage {
  const key = aesKeyOf(encodingAESKey);
  if (typeof base64 !== 'string' || !BASE64.test(base64)) {
    throw new CallbackCryptoError('bad_ciphertext', 'ciphertext is not base64');
  }
  const plain = aesDecrypt(key, Buffer.from(base64, 'base64'));
  if (plain.length < HEADER_BYTES) {
    throw new CallbackCryptoError('bad_length', `plaintext of ${plain.length} bytes is shorter than its ${HEADER_BYTES}-byte header`);
  }
  const msgLength = plain.readUInt32BE(RANDOM_BYTES);
  if (msgLength > plain.length - HEADER_BYTES) {
    throw new CallbackCryptoError(
      'bad_length',
      `message length ${msgLength} runs past the ${plain.length - HEADER_BYTES} bytes that follow the header`,
    );
  }
  const end = HEADER_BYTES + msgLength;
  return {
    message: plain.subarray(HEADER_BYTES, end).toString('utf8'),
    receiveId: plain.subarray(end).toString('utf8'),
  };
}

export interface SignedCiphertext {
  token: string;
  encodingAESKey: string;
  /** The expected trailing id: the corpid for contacts sync and internal apps (§9.4). */
  receiveId: string;
  msgSignature: string;
  timestamp: string | number;
  nonce: string | number;
  /** The `Encrypt` element of a POST, or the `echostr` of a URL verification. */
  encrypt: string;
}

/**
 * The whole check of an incoming callback: the signature first (nothing is decrypted for a
 * forged request), then the decryption, then the receiveid (another corp's message is refused).
 */
export function verifyAndDecrypt(input: SignedCiphertext): DecryptedMessage {
  if (!verifySignature(input.token, input.timestamp, input.nonce, input.encrypt, input.msgSignature)) {
    throw new CallbackCryptoError('bad_signature', 'msg_signature does not match');
  }
  const decrypted = decrypt(input.encodingAESKey, input.encrypt);
  if (decrypted.receiveId !== input.receiveId) {
    throw new CallbackCryptoError('wrong_receiveid', 'the message is addressed to another receiveid');
  }
  return decrypted;
}
