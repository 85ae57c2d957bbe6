import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import busboy from 'busboy';
import type { CorpStore } from './store.ts';
import type { Clock } from './clock.ts';
import { fail } from './errors.ts';
import { perCorp } from './corp-state.ts';
import { MEDIA_MAX_BYTES, MEDIA_MIN_EXCLUSIVE_BYTES, MEDIA_VALID_SECONDS, type MediaType } from 'wecom-protocol/limits';

/**
 * Temporary media (临时素材, docs/wecom-api.md §6.1): files uploaded through `media/upload` and
 * referred to by `media_id` for 3 days — import CSVs (`type=file`) and avatars (`type=image`).
 * A media_id is shared by every token of the corp, so the registry belongs to the corp.
 */

export interface MediaRecord {
  mediaId: string;
  type: MediaType;
  /** The part's filename: WeCom shows it as the display name. */
  filename: string;
  contentType: string;
  bytes: Buffer;
  /** Unix seconds by the emulator clock (the `created_at` of the upload response). */
  createdAt: number;
}

class MediaRegistry {
  private readonly byId = new Map<string, MediaRecord>();

  add(record: MediaRecord): void {
    this.byId.set(record.mediaId, record);
  }

  /** The record while it is valid; an expired one is dropped on sight. */
  live(mediaId: string, nowSeconds: number): MediaRecord | undefined {
    const record = this.byId.get(mediaId);
    if (!record) return undefined;
    if (nowSeconds >= record.createdAt + MEDIA_VALID_SECONDS) {
      this.byId.delete(mediaId);
      return undefined;
    }
    return record;
  }

  clear(): void {
    this.byId.clear();
  }
}

const mediaOf = perCorp(
  () => new MediaRegistry(),
  (registry) => registry.clear(),
);

interface MediaContext {
  readonly store: CorpStore;
  readonly clock: Clock;
}

/** A live upload by its media_id; `undefined` when unknown or older than 3 days. */
export function mediaById(ctx: MediaContext, mediaId: string): MediaRecord | undefined {
  return mediaOf(ctx.store).live(mediaId, ctx.clock.nowSeconds());
}

/**
 * The media an API call names: 41006 when the id is absent or empty, 40007 when it is unknown,
 * expired, or of another media type than `type` (40007's help: "wrong source, expired after
 * 3 days, wrong media type").
 */
export function requireMedia(ctx: MediaContext, mediaId: string | undefined, type?: MediaType): MediaRecord {
  if (!mediaId) throw fail(41006);
  const record = mediaById(ctx, mediaId);
  if (!record) throw fail(40007, 'unknown or expired media_id');
  if (type && record.type !== type) throw fail(40007, `media_id is not of type ${type}`);
  return record;
}

/** `avatar_mediaid` of user/create and user/update: a live image upload, else 301015. */
export function avatarImage(ctx: MediaContext, mediaId: string): MediaRecord {
  const record = mediaById(ctx, mediaId);
  if (!record || record.type !== 'image') throw fail(301015);
  return record;
}

// ── upload ─────────────────────────────────────────────────────────────────

/** The multipart part WeCom reads the file from. */
export const MEDIA_PART_NAME = 'media';

export interface UploadedPart {
  filename: string;
  contentType: string;
  bytes: Buffer;
  /** The `filelength` parameter of the part's Content-Disposition, when the client sent one. */
  declaredLength: number | undefined;
}

/**
 * The `media` file part of a multipart/form-data body, or `undefined` when the body is not
 * multipart or has no such part. Filenames are read as UTF-8 (Chinese names are common).
 */
export function readMediaPart(headers: IncomingHttpHeaders, body: Buffer): Promise<UploadedPart | undefined> {
  return new Promise((resolve) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers, defParamCharset: 'utf8' });
    } catch {
      // Not multipart/form-data (or no boundary): there is no media data to read.
      resolve(undefined);
      return;
    }
    let found: UploadedPart | undefined;
    parser.on('file', (name, stream, info) => {
      if (name !== MEDIA_PART_NAME || found) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        found = {
          filename: info.filename ?? '',
          contentType: info.mimeType,
          bytes: Buffer.concat(chunks),
          declaredLength: declaredFileLength(body),
        };
      });
    });
    parser.on('close', () => resolve(found));
    parser.on('error', () => resolve(found));
    parser.end(body);
  });
}

/**
 * WeCom's upload example puts `filelength=N` in the part's Content-Disposition; busboy does not
 * expose unknown parameters, so the header line of the `media` part is read directly.
 */
function declaredFileLength(body: Buffer): number | undefined {
  const at = body.indexOf(`name="${MEDIA_PART_NAME}"`);
  if (at < 0) return undefined;
  const lineEnd = body.indexOf('\r\n', at);
  const line = body.subarray(at, lineEnd < 0 ? Math.min(body.length, at + 1024) : lineEnd).toString('latin1');
  const match = /;\s*filelength=(\d+)/i.exec(line);
  return match ? Number(match[1]) : undefined;
}

/** Magic bytes of the formats WeCom accepts for each media type (`file` takes anything). */
const FORMAT_CHECKS: Record<MediaType, (bytes: Buffer) => boolean> = {
  // JPEG (FF D8 FF) or PNG (89 'PNG' CR LF 1A LF).
  image: (b) =>
    (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) ||
    b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  // AMR (narrow-band "#!AMR\n" or wide-band "#!AMR-WB\n").
  voice: (b) => b.subarray(0, 6).toString('latin1') === '#!AMR\n' || b.subarray(0, 9).toString('latin1') === '#!AMR-WB\n',
  // MP4: an ISO base media file starts with a box whose type is "ftyp".
  video: (b) => b.subarray(4, 8).toString('latin1') === 'ftyp',
  file: () => true,
};

/**
 * Checks an upload against §6.1, in this order (the errcode mapping is the emulator's reading of
 * the global error table, §10):
 * - no `media` part, or a part with no bytes → 44001 "empty media data";
 * - 1–5 bytes (every file must be > 5 bytes), or a `filelength` that disagrees with the bytes
 *   received → 40006 "invalid file size";
 * - over the type's cap → 45001;
 * - content not in the type's format (image not JPG/PNG, voice not AMR, video not MP4) → 40004
 *   "invalid media type".
 * An unknown `type` parameter (40005) is checked by the route before the body is read.
 */
export function checkUpload(type: MediaType, part: UploadedPart | undefined): UploadedPart {
  if (!part || part.bytes.length === 0) throw fail(44001, `no file in a multipart part named "${MEDIA_PART_NAME}"`);
  const size = part.bytes.length;
  if (size <= MEDIA_MIN_EXCLUSIVE_BYTES) throw fail(40006, `a file must be larger than ${MEDIA_MIN_EXCLUSIVE_BYTES} bytes`);
  if (part.declaredLength !== undefined && part.declaredLength !== size) {
    throw fail(40006, `filelength ${part.declaredLength} does not match the ${size} bytes received`);
  }
  if (size > MEDIA_MAX_BYTES[type]) throw fail(45001, `${type} files are limited to ${MEDIA_MAX_BYTES[type]} bytes`);
  if (!FORMAT_CHECKS[type](part.bytes)) throw fail(40004, `the file is not a valid ${type}`);
  return part;
}

/** Stores an accepted upload and returns its record (media_id valid for 3 days from now). */
export function storeMedia(ctx: MediaContext, type: MediaType, part: UploadedPart): MediaRecord {
  const record: MediaRecord = {
    mediaId: newMediaId(),
    type,
    filename: part.filename,
    contentType: part.contentType,
    bytes: part.bytes,
    createdAt: ctx.clock.nowSeconds(),
  };
  mediaOf(ctx.store).add(record);
  return record;
}

/** Opaque ids like WeCom's ("1G6nrLmr5EC3MMb_-zK1dDdzmd0p7cNliYu9V5w7o8K0"): a digit, then base64url. */
function newMediaId(): string {
  return `3${randomBytes(33).toString('base64url')}`;
}
