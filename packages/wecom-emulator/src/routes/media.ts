import type { Route } from './types.ts';
import { fail } from '../errors.ts';
import { checkUpload, readMediaPart, storeMedia } from '../media.ts';
import { MEDIA_TYPES, type MediaType } from 'wecom-protocol/limits';

/** Temporary media upload (wecom-api.md §6.1). */

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
];
