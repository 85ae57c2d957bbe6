import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as official from '@wecom/crypto';
import {
  CallbackCryptoError,
  aesDecrypt,
  aesEncrypt,
  aesKeyOf,
  decrypt,
  encrypt,
  signature,
  verifyAndDecrypt,
  verifySignature,
} from 'wecom-protocol/crypto';

/** The official sample values of docs/wecom-api.md §9.4. */
const TOKEN = 'QDG6eK';
const KEY = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';
const CORP_ID = 'wx5823bf96d3bd56c7';

const VECTOR_A = {
  timestamp: '1409659589',
  nonce: '263014780',
  encrypt: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
  msgSignature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  plaintext: '1616140317555161061',
  padByte: 7,
};

const VECTOR_B = {
  timestamp: '1409659813',
  nonce: '1372623149',
  encrypt:
    'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
  msgSignature: '477715d11cdb4164915debcba66cb864d751f3e6',
  plaintext:
    '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>',
  padByte: 30,
};

/** The last byte of the raw decryption: the PKCS#7 pad value, read without any unpadding. */
function rawPadByte(base64: string): number {
  const key = Buffer.from(`${KEY}=`, 'base64');
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(Buffer.from(base64, 'base64')), d.final()]);
  return plain[plain.length - 1]!;
}

function caught(fn: () => unknown): CallbackCryptoError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CallbackCryptoError) return err;
    throw err;
  }
  throw new Error('expected a CallbackCryptoError');
}

/** Flips one bit of the decoded ciphertext at `index` and re-encodes it. */
function flipBit(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}

describe.each([
  ['A (URL verification)', VECTOR_A],
  ['B (POST message)', VECTOR_B],
])('official vector %s', (_name, v) => {
  it('computes the documented msg_signature', () => {
    expect(signature(TOKEN, v.timestamp, v.nonce, v.encrypt)).toBe(v.msgSignature);
    expect(signature(TOKEN, Number(v.timestamp), Number(v.nonce), v.encrypt)).toBe(v.msgSignature);
    expect(verifySignature(TOKEN, v.timestamp, v.nonce, v.encrypt, v.msgSignature)).toBe(true);
  });

  it('decrypts to the documented plaintext and corpid', () => {
    expect(decrypt(KEY, v.encrypt)).toEqual({ message: v.plaintext, receiveId: CORP_ID });
    expect(rawPadByte(v.encrypt)).toBe(v.padByte);
  });

  it('verifies and decrypts in one step', () => {
    const out = verifyAndDecrypt({ token: TOKEN, encodingAESKey: KEY, receiveId: CORP_ID, ...v });
    expect(out.message).toBe(v.plaintext);
  });

  it('re-encrypts to the same ciphertext given the same 16 random bytes', () => {
    const random = aesDecrypt(KEY, Buffer.from(v.encrypt, 'base64')).subarray(0, 16);
    expect(encrypt(KEY, v.plaintext, CORP_ID, random)).toBe(v.encrypt);
  });
});

describe('vector B size', () => {
  it('is the 284-byte XML of the fact sheet', () => {
    expect(Buffer.byteLength(decrypt(KEY, VECTOR_B.encrypt).message)).toBe(284);
  });
});

describe('round trips', () => {
  it.each([
    ['empty', ''],
    ['ascii', 'hello'],
    ['chinese', '<xml><Name><![CDATA[张三]]></Name></xml>'],
    ['long', 'x'.repeat(5000)],
  ])('%s message', (_name, message) => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    const ciphertext = encrypt(key, message, 'ww0123456789abcdef');
    expect(decrypt(key, ciphertext)).toEqual({ message, receiveId: 'ww0123456789abcdef' });
  });

  it('uses fresh random bytes each time unless given', () => {
    expect(encrypt(KEY, 'same', CORP_ID)).not.toBe(encrypt(KEY, 'same', CORP_ID));
    const r = randomBytes(16);
    expect(encrypt(KEY, 'same', CORP_ID, r)).toBe(encrypt(KEY, 'same', CORP_ID, r));
  });

  it('pads exactly 32 bytes when random+len+msg+receiveid is a multiple of 32', () => {
    // 16 + 4 + 22 + 18 = 60 → pad 4; 16 + 4 + 26 + 18 = 64 → a whole extra block of 32.
    const message = 'm'.repeat(26);
    const ciphertext = encrypt(KEY, message, CORP_ID);
    expect(Buffer.from(ciphertext, 'base64').length).toBe(96);
    expect(rawPadByte(ciphertext)).toBe(32);
    expect(decrypt(KEY, ciphertext)).toEqual({ message, receiveId: CORP_ID });
    expect(official.decrypt(KEY, ciphertext).message).toBe(message);
  });

  it('raw AES helpers round-trip buffers of every length around a block', () => {
    for (let n = 0; n <= 70; n++) {
      const data = randomBytes(n);
      const c = aesEncrypt(KEY, data);
      expect(c.length % 32).toBe(0);
      expect(c.length).toBe((Math.floor(n / 32) + 1) * 32);
      expect(aesDecrypt(KEY, c).equals(data)).toBe(true);
      // The raw helpers take a decoded key as well.
      expect(aesDecrypt(aesKeyOf(KEY), c).equals(data)).toBe(true);
    }
  });
});

describe('interop with the official @wecom/crypto package', () => {
  const message = '<xml><ToUserName><![CDATA[ww1]]></ToUserName><Name><![CDATA[李四]]></Name></xml>';

  it('decrypts what the official package encrypts', () => {
    for (let i = 0; i < 20; i++) {
      const msg = message + 'y'.repeat(i);
      const theirs = official.encrypt(KEY, msg, CORP_ID);
      expect(decrypt(KEY, theirs)).toEqual({ message: msg, receiveId: CORP_ID });
    }
  });

  it('is decrypted by the official package, with the same ciphertext for the same random bytes', () => {
    for (let i = 0; i < 20; i++) {
      const msg = message + 'z'.repeat(i);
      const random = randomBytes(16);
      const ours = encrypt(KEY, msg, CORP_ID, random);
      expect(ours).toBe(official.encrypt(KEY, msg, CORP_ID, random));
      const back = official.decrypt(KEY, ours);
      expect({ message: back.message, id: back.id, random: back.random.equals(random) }).toEqual({
        message: msg,
        id: CORP_ID,
        random: true,
      });
    }
  });

  it('computes the same signatures', () => {
    for (let i = 0; i < 20; i++) {
      const enc = official.encrypt(KEY, `${message}${i}`, CORP_ID);
      const ts = 1700000000 + i;
      const nonce = String(100000 + i * 7919);
      expect(signature(TOKEN, ts, nonce, enc)).toBe(official.getSignature(TOKEN, ts, nonce, enc));
    }
  });
});

describe('refusals', () => {
  const base = { token: TOKEN, encodingAESKey: KEY, receiveId: CORP_ID, ...VECTOR_B };

  it('a wrong signature is refused before anything is decrypted', () => {
    // An undecryptable payload with a wrong signature reports the signature, not the payload.
    const err = caught(() => verifyAndDecrypt({ ...base, encrypt: 'not base64 at all!', msgSignature: '0'.repeat(40) }));
    expect(err.reason).toBe('bad_signature');
  });

  it.each([
    ['one changed hex digit', (s: string) => (s[0] === 'a' ? 'b' : 'a') + s.slice(1)],
    ['upper case', (s: string) => s.toUpperCase()],
    ['truncated', (s: string) => s.slice(0, 39)],
    ['empty', () => ''],
  ])('a signature with %s is refused', (_name, mutate) => {
    expect(verifySignature(TOKEN, VECTOR_B.timestamp, VECTOR_B.nonce, VECTOR_B.encrypt, mutate(VECTOR_B.msgSignature))).toBe(false);
    expect(caught(() => verifyAndDecrypt({ ...base, msgSignature: mutate(VECTOR_B.msgSignature) })).reason).toBe('bad_signature');
  });

  it('a changed timestamp, nonce or token breaks the signature', () => {
    expect(caught(() => verifyAndDecrypt({ ...base, timestamp: '1409659814' })).reason).toBe('bad_signature');
    expect(caught(() => verifyAndDecrypt({ ...base, nonce: '1372623148' })).reason).toBe('bad_signature');
    expect(caught(() => verifyAndDecrypt({ ...base, token: 'QDG6eL' })).reason).toBe('bad_signature');
  });

  it('tampered ciphertext with a matching signature fails the padding or length check', () => {
    // Flipping a bit in the last block scrambles the padding; earlier blocks scramble the header.
    const lastBlock = flipBit(VECTOR_B.encrypt, Buffer.from(VECTOR_B.encrypt, 'base64').length - 20);
    const resigned = { ...base, encrypt: lastBlock, msgSignature: signature(TOKEN, base.timestamp, base.nonce, lastBlock) };
    expect(caught(() => verifyAndDecrypt(resigned)).reason).toBe('bad_padding');

    // Flipping bit 0 of ciphertext block 0 flips bit 0 of plaintext block 1 (byte 16: the top byte of msg_len).
    const header = flipBit(VECTOR_B.encrypt, 0);
    const resignedHeader = { ...base, encrypt: header, msgSignature: signature(TOKEN, base.timestamp, base.nonce, header) };
    expect(caught(() => verifyAndDecrypt(resignedHeader)).reason).toBe('bad_length');
  });

  it('a message for another corp is refused', () => {
    const enc = encrypt(KEY, 'hi', 'wwanothercorp');
    const msgSignature = signature(TOKEN, '1', '2', enc);
    const err = caught(() => verifyAndDecrypt({ ...base, encrypt: enc, msgSignature, timestamp: '1', nonce: '2' }));
    expect(err.reason).toBe('wrong_receiveid');
    expect(verifyAndDecrypt({ ...base, encrypt: enc, msgSignature, timestamp: '1', nonce: '2', receiveId: 'wwanothercorp' }).message).toBe(
      'hi',
    );
  });

  it('the wrong key fails the padding check', () => {
    const other = 'A'.repeat(43);
    const reasons = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const enc = encrypt(KEY, `message ${i}`, CORP_ID);
      reasons.add(caught(() => decrypt(other, enc)).reason);
    }
    // A random last byte is a valid pad of 1 one time in 256; over 30 messages padding always catches at least one.
    expect(reasons.has('bad_padding')).toBe(true);
    expect([...reasons].every((r) => r === 'bad_padding' || r === 'bad_length')).toBe(true);
  });

  it.each([
    ['too short', KEY.slice(0, 42)],
    ['too long', `${KEY}A`],
    ['a base64 symbol', `${KEY.slice(0, 42)}+`],
    ['empty', ''],
  ])('a key that is %s is refused with bad_key and never echoed', (_name, key) => {
    for (const fn of [() => decrypt(key, VECTOR_A.encrypt), () => encrypt(key, 'x', CORP_ID), () => aesEncrypt(key, Buffer.from('x'))]) {
      const err = caught(fn);
      expect(err.reason).toBe('bad_key');
      if (key) expect(err.message).not.toContain(key);
    }
  });

  it('a raw key of the wrong size is refused', () => {
    expect(caught(() => aesDecrypt(Buffer.alloc(16), Buffer.alloc(32))).reason).toBe('bad_key');
  });

  it('ciphertext that is not whole blocks of base64 is refused', () => {
    expect(caught(() => decrypt(KEY, '')).reason).toBe('bad_ciphertext');
    expect(caught(() => decrypt(KEY, 'abc')).reason).toBe('bad_ciphertext');
    expect(caught(() => decrypt(KEY, Buffer.alloc(24).toString('base64'))).reason).toBe('bad_ciphertext');
  });

  it('inconsistent padding bytes are refused even when the last byte is in range', () => {
    // 30 bytes of data + a pad claiming 2 whose other pad byte is wrong.
    const key = aesKeyOf(KEY);
    const block = Buffer.concat([Buffer.alloc(30, 0x41), Buffer.from([0x01, 0x02])]);
    const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    c.setAutoPadding(false);
    const ciphertext = Buffer.concat([c.update(block), c.final()]);
    expect(caught(() => aesDecrypt(key, ciphertext)).reason).toBe('bad_padding');
    // A pad value above 32 is refused too.
    const c2 = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    c2.setAutoPadding(false);
    const over = Buffer.concat([c2.update(Buffer.alloc(32, 33)), c2.final()]);
    expect(caught(() => aesDecrypt(key, over)).reason).toBe('bad_padding');
  });

  it('a length field that runs past the end is refused', () => {
    const key = aesKeyOf(KEY);
    const plain = Buffer.concat([randomBytes(16), Buffer.from([0, 0, 1, 0]), Buffer.from('short')]);
    const enc = aesEncrypt(key, plain).toString('base64');
    expect(caught(() => decrypt(KEY, enc)).reason).toBe('bad_length');
    const tooShort = aesEncrypt(key, Buffer.from('tiny')).toString('base64');
    expect(caught(() => decrypt(KEY, tooShort)).reason).toBe('bad_length');
  });

  it('no error message carries the token or the key', () => {
    const errors = [
      caught(() => verifyAndDecrypt({ ...base, msgSignature: 'x' })),
      caught(() => verifyAndDecrypt({ ...base, receiveId: 'other' })),
      caught(() => decrypt('B'.repeat(43), VECTOR_B.encrypt)),
    ];
    for (const err of errors) {
      expect(err.message).not.toContain(TOKEN);
      expect(err.message).not.toContain(KEY);
      expect(err.message).not.toContain('B'.repeat(43));
    }
  });
});
