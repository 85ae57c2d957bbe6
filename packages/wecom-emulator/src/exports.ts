import type { EmulatorLogger } from './options.ts';
import { createHash, randomBytes } from 'node:crypto';
import type { Caller, Department, Tag, User } from './model.ts';
import type { CorpStore } from './store.ts';
import type { Clock } from './clock.ts';
import type { Scope } from './visibility.ts';
import { fail } from './errors.ts';
import { perCorp } from './corp-state.ts';
import { type JobOwner, SliceRunner, mayReadJob, newJobId } from './jobs.ts';
import { userSimpleView, userView } from './user-view.ts';
import { aesEncrypt } from 'wecom-protocol/crypto';
import { EXPORT_LINK_VALID_SECONDS, ROOT_DEPARTMENT_ID } from 'wecom-protocol/limits';

/**
 * Asynchronous export (docs/wecom-api.md §7): a job serialises what the caller may see as JSON,
 * cuts it into files of `block_size` records, encrypts each with the caller's `encoding_aeskey`
 * (AES-256-CBC, key = base64decode(encoding_aeskey + "="), IV = key[0:16], PKCS#7 to 32 bytes) and
 * offers them as download links that answer HTTP Range requests and expire after 2 hours.
 */

export type ExportKind = 'simple_user' | 'user' | 'department' | 'taguser';

/**
 * How the JSON is laid out before encryption. Unconfirmed (§7): either the bare JSON text, or
 * wrapped like a callback message (random(16) ‖ len(4) ‖ msg ‖ receiveid). The emulator encrypts
 * the bare JSON — what a public client that decrypts real WeCom export downloads expects (it
 * strips the padding and parses the plaintext as JSON directly).
 */
export const EXPORT_PLAINTEXT_FRAMING: 'bare-json' | 'callback-envelope' = 'bare-json';

/**
 * How the ciphertext travels in the downloaded file. Unconfirmed (§7): raw bytes or base64 text.
 * The emulator serves the raw ciphertext bytes (the same public client decrypts the response
 * body as it comes); `size` and `md5` are those of the downloaded bytes.
 */
export const EXPORT_FILE_ENCODING: 'raw' | 'base64' = 'raw';

/**
 * `JobType` of the batch_job_result event for a tag export: `export_tag` in the internal-app doc,
 * `export_taguser` in the third-party doc — unconfirmed (§7). The emulator is a corp-internal
 * WeCom, so it follows the internal-app doc.
 */
export const EXPORT_TAG_JOB_TYPE = 'export_tag';

export const EXPORT_JOB_TYPES: Readonly<Record<ExportKind, string>> = {
  simple_user: 'export_simple_user',
  user: 'export_user',
  department: 'export_department',
  taguser: EXPORT_TAG_JOB_TYPE,
};

/** Where the emulator serves export files (outside /cgi-bin/, like WeCom's CDN links). */
export const EXPORT_FILES_PATH = '/__emulator/export-files/';

/** 0 not started, 1 processing, 2 done, 3 failed (§7). */
export type ExportStatus = 0 | 1 | 2 | 3;

export interface ExportFile {
  readonly id: string;
  /** The downloadable bytes; emptied once the link has expired. */
  bytes: Buffer;
  readonly size: number;
  readonly md5: string;
  /** Emulator-clock milliseconds after which the link answers 403. */
  readonly expiresAtMs: number;
}

export interface ExportJob {
  readonly jobid: string;
  readonly kind: ExportKind;
  readonly owner: JobOwner;
  status: ExportStatus;
  readonly files: ExportFile[];
}

/** What one export job produces: records, and how a block of them becomes a file's JSON. */
export interface ExportSource {
  readonly count: number;
  /** Serialises one record per step (one unit of work each). */
  records(): Iterable<unknown>;
  /** The JSON document of one file holding `block` records. */
  document(block: unknown[]): unknown;
}

export interface ExportSpec {
  kind: ExportKind;
  owner: JobOwner;
  /** The 32-byte AES key. */
  key: Buffer;
  blockSize: number;
  source: ExportSource;
  /** The corpid: the receiveid of the callback-envelope framing. */
  corpId: string;
  logger: EmulatorLogger;
  /** The emulator clock: links expire 2 hours after their file is written. */
  clock: Clock;
  /** Runs once the files are ready (the batch_job_result event). */
  onFinished?(job: ExportJob): void;
}

/** The corp's export jobs and the files they produced. */
export class ExportJobs {
  private readonly runner = new SliceRunner();
  private readonly stopped = new AbortController();
  private readonly jobs = new Map<string, ExportJob>();
  private readonly files = new Map<string, ExportFile>();

  submit(spec: ExportSpec): ExportJob {
    this.sweep(spec.clock.nowMs());
    const job: ExportJob = { jobid: newJobId(), kind: spec.kind, owner: spec.owner, status: 0, files: [] };
    this.jobs.set(job.jobid, job);
    this.runner.run(spec.source.count, this.produce(job, spec), {
      onStart: () => {
        job.status = 1;
      },
      onProgress: () => undefined,
      onDone: () => {
        job.status = 2;
        spec.onFinished?.(job);
      },
      onError: (err) => {
        spec.logger.error({ err }, 'export job failed');
        job.status = 3;
      },
    });
    return job;
  }

  /** A job `caller` may read: 40088 when unknown or submitted by another identity. */
  lookup(jobid: string | undefined, caller: Caller, nowMs: number): ExportJob {
    this.sweep(nowMs);
    const job = jobid ? this.jobs.get(jobid) : undefined;
    if (!job || !mayReadJob(caller, job.owner)) throw fail(40088, jobid ? undefined : 'jobid missing');
    return job;
  }

  /** A file by its link id (expired links keep their record, without bytes). */
  file(id: string, nowMs: number): ExportFile | undefined {
    this.sweep(nowMs);
    return this.files.get(id);
  }

  /** Aborted when the corp is reset: completion callbacks still in flight stop. */
  get signal(): AbortSignal {
    return this.stopped.signal;
  }

  stop(): void {
    this.runner.stop();
    this.stopped.abort();
    this.jobs.clear();
    this.files.clear();
  }

  /** Drops the bytes of expired files (the links answer 403 from then on). */
  private sweep(nowMs: number): void {
    for (const file of this.files.values()) if (file.bytes.length && isExpired(file, nowMs)) file.bytes = Buffer.alloc(0);
  }

  /** One yield per record; a file is written each time `blockSize` records are ready, and at the end. */
  private *produce(job: ExportJob, spec: ExportSpec): Generator<void> {
    let block: unknown[] = [];
    for (const record of spec.source.records()) {
      block.push(record);
      if (block.length === spec.blockSize) {
        this.addFile(job, spec, block);
        block = [];
      }
      yield;
    }
    // An export with nothing to export still gives one file (an empty list).
    if (block.length || !job.files.length) this.addFile(job, spec, block);
  }

  private addFile(job: ExportJob, spec: ExportSpec, block: unknown[]): void {
    const json = Buffer.from(JSON.stringify(spec.source.document(block)), 'utf8');
    const cipher = aesEncrypt(spec.key, frame(json, spec.corpId));
    const bytes = EXPORT_FILE_ENCODING === 'base64' ? Buffer.from(cipher.toString('base64'), 'ascii') : cipher;
    const file: ExportFile = {
      id: randomBytes(24).toString('base64url'),
      bytes,
      size: bytes.length,
      md5: createHash('md5').update(bytes).digest('hex'),
      expiresAtMs: spec.clock.nowMs() + EXPORT_LINK_VALID_SECONDS * 1000,
    };
    this.files.set(file.id, file);
    job.files.push(file);
  }
}

function frame(json: Buffer, receiveId: string): Buffer {
  if (EXPORT_PLAINTEXT_FRAMING === 'bare-json') return json;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length, 0);
  return Buffer.concat([randomBytes(16), length, json, Buffer.from(receiveId, 'utf8')]);
}

export function isExpired(file: ExportFile, nowMs: number): boolean {
  return nowMs >= file.expiresAtMs;
}

/** The corp's export jobs and files. */
export const exportJobs = perCorp(
  () => new ExportJobs(),
  (jobs) => jobs.stop(),
);

/** The body of export/get_result: `data_list` once the files are ready, links under `baseUrl`. */
export function exportJobView(job: ExportJob, baseUrl: string): Record<string, unknown> {
  return {
    status: job.status,
    ...(job.status === 2
      ? { data_list: job.files.map((f) => ({ url: `${baseUrl}${EXPORT_FILES_PATH}${f.id}`, size: f.size, md5: f.md5 })) }
      : {}),
  };
}

// ── what each export contains ───────────────────────────────────────────────

/** Members the caller may see, in creation order. */
function visibleUsers(store: CorpStore, scope: Scope): User[] {
  const users: User[] = [];
  for (const u of store.users.values()) if (scope.all || scope.canSeeUser(u)) users.push(u);
  return users.sort((a, b) => a.created_seq - b.created_seq);
}

/** Departments the caller may see, parents before children, as department/list orders them. */
function visibleDepartments(store: CorpStore, scope: Scope): Department[] {
  if (scope.all) return store.subtree(ROOT_DEPARTMENT_ID);
  return scope.rootDepartments().flatMap((root) => store.subtree(root.id));
}

function* mapped<T>(items: T[], view: (item: T) => unknown): Generator<unknown> {
  for (const item of items) yield view(item);
}

/** simple_user: `{"userlist": [user/simplelist items]}`. */
export function simpleUserSource(store: CorpStore, scope: Scope): ExportSource {
  const users = visibleUsers(store, scope);
  return {
    count: users.length,
    records: () => mapped(users, (u) => userSimpleView(u, scope)),
    document: (block) => ({ userlist: block }),
  };
}

/** user: `{"userlist": [user/list items]}`, with the 2022 sensitive-field rule for app tokens. */
export function userSource(store: CorpStore, scope: Scope, withholdSensitive: boolean): ExportSource {
  const users = visibleUsers(store, scope);
  return {
    count: users.length,
    records: () => mapped(users, (u) => userView(store, u, { scope, withholdSensitive, legacyFields: true })),
    document: (block) => ({ userlist: block }),
  };
}

/** department: `{"department": [{id, name, name_en, parentid, order}]}` (§7; no department_leader). */
export function departmentSource(store: CorpStore, scope: Scope): ExportSource {
  const departments = visibleDepartments(store, scope);
  return {
    count: departments.length,
    records: () =>
      mapped(departments, (d) => ({
        id: d.id,
        name: d.name,
        ...(d.name_en ? { name_en: d.name_en } : {}),
        parentid: d.parentid,
        order: d.order,
      })),
    document: (block) => ({ department: block }),
  };
}

type TagRecord = { user: { userid: string; name: string } } | { party: number };

/**
 * taguser: `{"tagname", "userlist": [{userid, name}], "partylist": [ids]}` as tag/get shows it
 * (members outside an app's visibility left out); `block_size` counts users and departments
 * together, users first.
 */
export function tagUserSource(store: CorpStore, scope: Scope, tag: Tag): ExportSource {
  const records: TagRecord[] = [];
  for (const key of tag.users) {
    const user = store.users.get(key);
    if (user && scope.canSeeUser(user)) records.push({ user: { userid: user.userid, name: user.name } });
  }
  for (const id of tag.parties) if (scope.canSeeDepartment(id)) records.push({ party: id });
  return {
    count: records.length,
    records: () => records,
    document: (block) => {
      const items = block as TagRecord[];
      return {
        tagname: tag.tagname,
        userlist: items.flatMap((r) => ('user' in r ? [r.user] : [])),
        partylist: items.flatMap((r) => ('party' in r ? [r.party] : [])),
      };
    },
  };
}
