/**
 * Asynchronous export (异步导出接口, docs/wecom-api.md §7): submit a job with an `encoding_aeskey`,
 * poll `export/get_result`, then download each file and decrypt it (AES-256-CBC, IV = key[0:16],
 * 32-byte PKCS#7: the AES layer of crypto.ts).
 */
import { createHash } from 'node:crypto';
import { aesDecrypt } from 'wecom-protocol/crypto';
import { endpoint, type CallOptions, type Invoke } from './endpoint.ts';
import { WeComHttpError, WeComTimeoutError, WeComTransportError } from './errors.ts';
import type { Dispatcher } from 'undici';
import type { Transport } from './transport.ts';
import { arrayField, fromWire, numberField, stringField, type WireObject } from './wire.ts';

/** 0 not started, 1 processing, 2 done, 3 failed. */
export type ExportJobStatus = 0 | 1 | 2 | 3;

export interface ExportFileRef {
  /** Download link, valid 2 hours, supports Range. */
  url: string;
  /** Size and md5 of the ciphertext. */
  size: number;
  md5: string;
}

export interface ExportJobResult {
  status: ExportJobStatus;
  dataList: ExportFileRef[];
}

export interface ExportInput {
  /** 43 letters/digits; the files are encrypted with base64decode(key + "="). */
  encodingAesKey: string;
  /** Records per file, [10^4, 10^6] (default 10^6). */
  blockSize?: number;
}

const exportBody = (p: ExportInput & { tagid?: number }): WireObject => ({
  ...(p.tagid !== undefined ? { tagid: p.tagid } : {}),
  encoding_aeskey: p.encodingAesKey,
  ...(p.blockSize !== undefined ? { block_size: p.blockSize } : {}),
});

const jobId = (wire: WireObject) => ({ jobid: stringField(wire, 'jobid') });

/**
 * Export endpoints are reads for routing and retries: an export job changes nothing in the
 * directory, and a duplicate job only costs quota. They use the app secret when one is
 * configured: new contacts-sync IPs are refused exports since 2022-08-15 (§2).
 */
function exportEndpoint(kind: 'simple_user' | 'user' | 'department') {
  return endpoint<ExportInput, { jobid: string }>({
    method: 'POST',
    path: `/cgi-bin/export/${kind}`,
    token: 'read',
    effect: 'read',
    body: exportBody,
    parse: jobId,
  });
}

export const exportSimpleUsers = exportEndpoint('simple_user');
export const exportUsers = exportEndpoint('user');
export const exportDepartments = exportEndpoint('department');

export const exportTagUsers = endpoint<ExportInput & { tagid: number }, { jobid: string }>({
  method: 'POST',
  path: '/cgi-bin/export/taguser',
  token: 'read',
  effect: 'read',
  body: exportBody,
  parse: jobId,
});

export const getExportResult = endpoint<string, ExportJobResult>({
  method: 'GET',
  path: '/cgi-bin/export/get_result',
  // Must be the identity that submitted the job: the same `read` routing as the submissions.
  token: 'read',
  effect: 'read',
  query: (jobid) => ({ jobid }),
  parse: (wire) => ({
    status: numberField(wire, 'status') as ExportJobStatus,
    dataList: arrayField<WireObject>(wire, 'data_list').map((f) => fromWire<ExportFileRef>(f)),
  }),
});

/**
 * How the downloaded file carries the ciphertext: raw bytes or base64 text (unconfirmed, §7).
 * The client accepts both: a file of base64 characters whose decoded length is whole AES blocks
 * is decoded first (raw ciphertext is practically never all base64 characters).
 */
export const EXPORT_FILE_ENCODINGS_ACCEPTED = ['raw', 'base64'] as const;
/**
 * How the plaintext is framed: bare JSON, or random(16) ‖ len(4) ‖ json ‖ receiveid like a
 * callback (unconfirmed, §7). The client accepts both: text starting with `{` is bare JSON.
 */
export const EXPORT_PLAINTEXT_FRAMINGS_ACCEPTED = ['bare-json', 'callback-envelope'] as const;

const BASE64_TEXT = /^[A-Za-z0-9+/]+={0,2}\s*$/;

/** Decrypts a downloaded export file to its JSON text (either transport encoding, either framing). */
export function decryptExportFile(file: Buffer, encodingAesKey: string): string {
  let cipher = file;
  const text = file.toString('latin1');
  if (BASE64_TEXT.test(text)) {
    const decoded = Buffer.from(text.trim(), 'base64');
    if (decoded.length > 0 && decoded.length % 16 === 0) cipher = decoded;
  }
  const plain = aesDecrypt(encodingAesKey, cipher);
  const first = plain.subarray(0, 1).toString('utf8');
  if (first === '{' || first === '[') return plain.toString('utf8');
  // Callback-style envelope: skip random(16), read the big-endian length, drop the receiveid.
  if (plain.length < 20) throw new TypeError('the decrypted export file is neither JSON nor an envelope');
  const length = plain.readUInt32BE(16);
  if (20 + length > plain.length) throw new TypeError('the decrypted export envelope length runs past its end');
  return plain.subarray(20, 20 + length).toString('utf8');
}

/** What downloading a result file needs of the client's core: its transport and its deadlines. */
export interface DownloadCore {
  readonly transport: Pick<Transport, 'download'>;
  downloadDispatcher(url: string): Dispatcher;
  withDeadline<T>(options: CallOptions | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export function exportApi(invoke: Invoke, core: DownloadCore) {
  /** Downloads one result file, checks its size and md5, and decrypts it. */
  async function download(file: ExportFileRef, encodingAesKey: string, options?: CallOptions): Promise<string> {
    const endpointName = '/cgi-bin/export/get_result (download)';
    const bytes = await core.withDeadline(options, async (signal) => {
      const got = await core.transport.download(file.url, core.downloadDispatcher(file.url), signal);
      if (got.failure) {
        const f = got.failure;
        if (f.kind === 'timeout') throw new WeComTimeoutError(endpointName, f.phase);
        if (f.kind === 'aborted') throw new WeComTimeoutError(endpointName, 'deadline');
        if (f.kind === 'transport') throw new WeComTransportError(endpointName, f.code, f.detail);
        throw new WeComHttpError(endpointName, f.kind === 'http' ? f.status : 0);
      }
      // 403: the link's 2 hours are over; ask get_result for fresh links.
      if (!got.bytes) throw new WeComHttpError(endpointName, got.status, got.status === 403 ? 'the download link has expired' : undefined);
      return got.bytes;
    });
    if (file.size !== undefined && bytes.length !== file.size) {
      throw new WeComHttpError(endpointName, 200, `downloaded ${bytes.length} bytes, expected ${file.size}`);
    }
    if (file.md5 && createHash('md5').update(bytes).digest('hex') !== file.md5.toLowerCase()) {
      throw new WeComHttpError(endpointName, 200, 'the downloaded file does not match its md5');
    }
    return decryptExportFile(bytes, encodingAesKey);
  }

  return {
    /** `POST /cgi-bin/export/simple_user`: exports userid, name, departments and open_userid of every visible member. */
    simpleUsers: (input: ExportInput, options?: CallOptions) => invoke(exportSimpleUsers, input, options),
    /** `POST /cgi-bin/export/user`: exports every visible member with details. */
    users: (input: ExportInput, options?: CallOptions) => invoke(exportUsers, input, options),
    /** `POST /cgi-bin/export/department`: exports every visible department. */
    departments: (input: ExportInput, options?: CallOptions) => invoke(exportDepartments, input, options),
    /** `POST /cgi-bin/export/taguser`: exports one tag's members and departments. */
    tagUsers: (input: ExportInput & { tagid: number }, options?: CallOptions) => invoke(exportTagUsers, input, options),
    /** `GET /cgi-bin/export/get_result`: the job's status and, when done, its download links. */
    getResult: (jobid: string, options?: CallOptions) => invoke(getExportResult, jobid, options),
    /** Downloads a `dataList` file of `export/get_result` and returns its decrypted JSON text. */
    download,
    /** Downloads and decrypts a result file, parsed with camelCase keys (e.g. `{ userlist: [...] }`). */
    downloadJson: async <T = Record<string, unknown>>(file: ExportFileRef, encodingAesKey: string, options?: CallOptions): Promise<T> =>
      fromWire<T>(JSON.parse(await download(file, encodingAesKey, options))),
  };
}

export type ExportApi = ReturnType<typeof exportApi>;
