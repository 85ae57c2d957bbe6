import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
};

/** Types worth compressing (images and fonts are compressed already). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map']);

interface Loaded {
  body: Buffer;
  gzip?: Buffer;
  br?: Buffer;
  etag: string;
  mtimeMs: number;
}

export interface StaticFilesOptions {
  /** The folder served; nothing outside it is ever read. */
  root: string;
  /** Cache-Control for a path under root (e.g. immutable for content-hashed names). */
  cacheControl(path: string): string;
  /** Headers added to every answer (the Content-Security-Policy). */
  headers?: Record<string, string>;
  /** Rewrites a file's contents once, when read (GraphiQL's CSS: its data: URLs become files). */
  transform?(path: string, body: Buffer): Buffer;
}

/**
 * Files of one folder over node:http, compressed once in memory (brotli or gzip, as the browser
 * accepts) and kept: the assets are few and fixed after a build, and GraphiQL's 7 MB bundle would
 * otherwise be compressed on every load. A file changed on disk (a rebuild during `vite build
 * --watch`) is read again. Only GET and HEAD; no directory listings; no path outside `root`.
 */
export class StaticFiles {
  private readonly loaded = new Map<string, Promise<Loaded>>();

  constructor(private readonly options: StaticFilesOptions) {}

  /** The absolute file for a URL path below root, or undefined for `..` tricks and odd bytes. */
  private fileOf(urlPath: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    const file = normalize(join(this.options.root, decoded));
    return file.startsWith(this.options.root.endsWith(sep) ? this.options.root : this.options.root + sep) ? file : undefined;
  }

  /** Whether a regular file exists for this path. */
  async has(urlPath: string): Promise<boolean> {
    const file = this.fileOf(urlPath);
    if (!file) return false;
    try {
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  }

  private async load(file: string, urlPath: string): Promise<Loaded> {
    const { mtimeMs } = await stat(file);
    const cached = this.loaded.get(file);
    if (cached) {
      const entry = await cached.catch(() => undefined);
      if (entry && entry.mtimeMs === mtimeMs) return entry;
    }
    const fresh = (async (): Promise<Loaded> => {
      const read = await readFile(file);
      const body = this.options.transform ? this.options.transform(urlPath, read) : read;
      const etag = `W/"${body.length.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
      if (!COMPRESSIBLE.has(extname(file)) || body.length < 1024) return { body, etag, mtimeMs };
      // Middle levels: on GraphiQL's 7 MB bundle brotli 5 takes about 1 s where 9 takes 4 s, for
      // 6% more bytes; the first page load waits for it (on the thread pool, not the event loop).
      const [gz, br] = await Promise.all([
        gzipAsync(body, { level: 6 }),
        brotliAsync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      ]);
      return { body, gzip: gz, br, etag, mtimeMs };
    })();
    this.loaded.set(file, fresh);
    fresh.catch(() => this.loaded.delete(file));
    return fresh;
  }

  /** Answers the request from the file at `urlPath`; false (nothing sent) when there is none. */
  async serve(req: IncomingMessage, res: ServerResponse, urlPath: string): Promise<boolean> {
    const file = this.fileOf(urlPath);
    if (!file || !(await this.has(urlPath))) return false;
    const entry = await this.load(file, urlPath);
    const accepted = String(req.headers['accept-encoding'] ?? '');
    const [encoding, body] =
      entry.br && /\bbr\b/.test(accepted)
        ? ['br', entry.br]
        : entry.gzip && /\bgzip\b/.test(accepted)
          ? ['gzip', entry.gzip]
          : [undefined, entry.body];
    const headers: Record<string, string | number> = {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': this.options.cacheControl(urlPath),
      etag: entry.etag,
      'x-content-type-options': 'nosniff',
      ...(entry.gzip ? { vary: 'accept-encoding' } : {}),
      ...this.options.headers,
    };
    if (req.headers['if-none-match'] === entry.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-length': body.length, ...(encoding ? { 'content-encoding': encoding } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
