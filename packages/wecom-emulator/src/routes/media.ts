import { create as contentDisposition } from 'content-disposition';
import parseRange from 'range-parser';
import { RawReply, type Route } from './types.ts';
import { fail } from '../errors.ts';
import { checkUpload, mediaById, readMediaPart, storeMedia } from '../media.ts';
import { MEDIA_TYPES, type MediaType } from 'wecom-protocol/limits';

/** Temporary media upload and download (docs/wecom-api.md §6.1, §14). */

/**
 * WeCom quotes the name (`attachment; filename="…"`, §14) and SDKs parse it that way; a Chinese
 * name also gets RFC 6266's `filename*` (UTF-8), after an ASCII fallback. content-disposition
 * writes a plain token name unquoted, so it is quoted here (a token holds no quote to escape).
 */
function attachmentHeader(filename: string): string {
  return contentDisposition(filename).replace(/^attachment; filename=([^";]+)/, 'attachment; filename="$1"');
}

const isMediaType = (v: string | null): v is MediaType => MEDIA_TYPES.includes(v as MediaType);

export const mediaRoutes: Route[] = [
  {
    method: 'POST',
    path: '/cgi-bin/media/upload',
    // Any token: the contacts-sync secret uploads import files and avatars, apps upload message media.
    access: 'read',
    rawBody: true,
    // The doc example answers success with an empty errmsg (§0).
    okMsg: '',
    async handle(ctx) {
      const type = ctx.query.get('type');
      // 40005 "invalid type param": the `type` query parameter is not one WeCom knows.
      if (!isMediaType(type)) throw fail(40005, `type must be one of ${MEDIA_TYPES.join(', ')}`);
      const part = checkUpload(type, await readMediaPart(ctx.headers, ctx.rawBody));
      const media = storeMedia(ctx, type, part);
      // `created_at` is a string in WeCom's example.
      return { type, media_id: media.mediaId, created_at: String(media.createdAt) };
    },
  },
  {
    method: 'GET',
    path: '/cgi-bin/media/get',
    // Any token: a media_id belongs to the corp, not to the secret that uploaded it.
    access: 'read',
    handle(ctx) {
      const mediaId = ctx.query.get('media_id');
      if (!mediaId) throw fail(41006);
      // 40007 for unknown and expired alike: the 3-day life runs on the emulator's clock.
      const media = mediaById(ctx, mediaId);
      if (!media) throw fail(40007, 'invalid media_id');
      const headers: Record<string, string> = {
        'content-type': media.contentType || 'application/octet-stream',
        'content-disposition': attachmentHeader(media.filename || media.mediaId),
        'accept-ranges': 'bytes',
        'cache-control': 'no-cache, must-revalidate',
      };
      const rangeHeader = ctx.headers.range;
      if (rangeHeader) {
        const ranges = parseRange(media.bytes.length, rangeHeader, { combine: true });
        if (ranges === -1) {
          return new RawReply(416, { ...headers, 'content-range': `bytes */${media.bytes.length}` }, Buffer.alloc(0));
        }
        // One range is what resumed downloads ask for; a multi-range request gets the whole file.
        if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
          const { start, end } = ranges[0]!;
          return new RawReply(
            206,
            { ...headers, 'content-range': `bytes ${start}-${end}/${media.bytes.length}` },
            media.bytes.subarray(start, end + 1),
          );
        }
      }
      return new RawReply(200, headers, media.bytes);
    },
  },
];
