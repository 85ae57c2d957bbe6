/** Temporary media (上传临时素材, docs/wecom-api.md §6.1): CSVs for imports, images for avatars. */
import { FormData } from 'undici';
import { endpoint, type CallOptions, type Invoke } from './endpoint.ts';
import { stringField } from './wire.ts';

export type MediaType = 'image' | 'voice' | 'video' | 'file';

export interface MediaUploadInput {
  data: Uint8Array;
  /** Becomes the file's display name. */
  filename: string;
  type: MediaType;
  /** Default: by type (text/csv for CSV files, application/octet-stream otherwise). */
  contentType?: string;
}

export interface MediaUploadResult {
  type: MediaType;
  /** Valid for 3 days, shared by every app of the corp. */
  mediaId: string;
  /** A string timestamp (seconds) in WeCom's example. */
  createdAt: string;
}

function contentTypeOf(input: MediaUploadInput): string {
  if (input.contentType) return input.contentType;
  const name = input.filename.toLowerCase();
  if (name.endsWith('.csv')) return 'text/csv';
  if (name.endsWith('.png')) return 'image/png';
  if (name.endsWith('.jpg') || name.endsWith('.jpeg')) return 'image/jpeg';
  if (name.endsWith('.amr')) return 'audio/amr';
  if (name.endsWith('.mp4')) return 'video/mp4';
  return 'application/octet-stream';
}

export const uploadMedia = endpoint<MediaUploadInput, MediaUploadResult>({
  method: 'POST',
  path: '/cgi-bin/media/upload',
  // Media is shared by every secret of the corp; it mostly feeds imports and avatars (contacts sync).
  token: 'owner',
  // An upload changes nothing in the directory; a repeated one only leaves a media_id that expires in 3 days.
  effect: 'read',
  query: (p) => ({ type: p.type }),
  form: (p) => {
    const form = new FormData();
    // The part must be named `media` (§6.1).
    // The cast only narrows ArrayBufferLike: Blob copies the bytes, shared memory or not.
    form.append('media', new Blob([p.data as Uint8Array<ArrayBuffer>], { type: contentTypeOf(p) }), p.filename);
    return form;
  },
  parse: (wire) => ({
    type: stringField(wire, 'type') as MediaType,
    mediaId: stringField(wire, 'media_id'),
    createdAt: String(wire.created_at ?? ''),
  }),
});

export function mediaApi(invoke: Invoke) {
  return {
    /** `POST /cgi-bin/media/upload`: uploads a file as multipart part `media`; returns its media_id. */
    upload: (input: MediaUploadInput, options?: CallOptions) => invoke(uploadMedia, input, options),
  };
}

export type MediaApi = ReturnType<typeof mediaApi>;
