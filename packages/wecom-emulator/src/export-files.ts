import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorpStore } from './store.ts';
import type { Clock } from './clock.ts';
import { exportJobs, isExpired } from './exports.ts';

/**
 * The download side of export/get_result's `data_list[].url` (docs/wecom-api.md §7): the encrypted
 * file, with HTTP Range support, valid for 2 hours by the emulator clock.
 */

/**
 * What an expired link answers. WeCom's links are signed CDN URLs; an expired signature there is
 * refused with 403, which the emulator reproduces (an unknown link is 404).
 */
export const EXPIRED_LINK_STATUS = 403;

type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * One `bytes=` range (`a-b`, `a-`, `-n`) of a file of `size` bytes. `undefined` means "serve the
 * whole file": no header, a malformed one, or several ranges (a server may ignore Range).
 */
function parseRange(header: string | undefined, size: number): ByteRange {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

export function serveExportFile(store: CorpStore, clock: Clock, req: IncomingMessage, res: ServerResponse, id: string): void {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
    res.end();
    return;
  }
  const nowMs = clock.nowMs();
  const file = exportJobs(store).file(id, nowMs);
  if (!file) {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
    return;
  }
  if (isExpired(file, nowMs)) {
    const body = 'the download link has expired';
    res.writeHead(EXPIRED_LINK_STATUS, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const headers = {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"${file.md5}"`,
  };
  const range = parseRange(req.headers.range, file.size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${file.size}`, 'content-length': 0 });
    res.end();
    return;
  }
  const part = range ? file.bytes.subarray(range.start, range.end + 1) : file.bytes;
  res.writeHead(range ? 206 : 200, {
    ...headers,
    ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${file.size}` } : {}),
    'content-length': part.length,
  });
  res.end(method === 'HEAD' ? undefined : part);
}
