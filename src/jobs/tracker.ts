import { setTimeout as delay } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { WeComClient } from '../wecom/client.ts';
import type { ChangeBus } from '../directory/changes.ts';
import type { ImportJobResult, ImportJobType, ImportRecordResult } from '../wecom/batch.ts';
import type { ExportFileRef } from '../wecom/export.ts';
import { WeComApiError, isNotFound } from '../wecom/errors.ts';
import { Watched } from './watch.ts';
import { IdempotentSubmissions } from './idempotency.ts';
import { exportContents, newExportKey, type ExportContents, type ExportKind } from './export-records.ts';

/**
 * Tracks the service's asynchronous WeCom jobs (imports §6, exports §7) from submission until
 * they finish: one poller per job however many subscribers watch it, polling batch/getresult or
 * export/get_result with exponential backoff, and woken at once by `notify(jobId)` when the
 * `batch_job_result` callback (§9.7) says a job is done. A finished import publishes
 * DIRECTORY_RELOADED (it may have changed anything); a finished export has its files downloaded,
 * checked (size, md5), decrypted and parsed, and keeps the records for the graph to page through.
 */

export interface ImportJobState {
  id: string;
  type: ImportJobType;
  /** 1 started, 2 running, 3 finished (§6.4). */
  status: 1 | 2 | 3;
  percentage: number;
  total: number;
  /** Per-record outcomes, once finished. */
  results: ImportRecordResult[];
}

/** The service's view of an export: WeCom's 0/1 (not started / processing), then files read or the job failed. */
export type ExportStatus = 'pending' | 'running' | 'finished' | 'failed';

export interface ExportJobState {
  id: string;
  kind: ExportKind;
  tagId?: number;
  status: ExportStatus;
  fileCount: number;
  /** Set once finished. */
  contents?: ExportContents;
}

interface JobLogger {
  warn?(obj: Record<string, unknown>, msg: string): void;
  info?(obj: Record<string, unknown>, msg: string): void;
}

export interface JobTrackerOptions {
  client: WeComClient;
  changes: ChangeBus;
  logger?: JobLogger;
  /** Delay before the first poll and the start of the backoff. */
  initialPollMs?: number;
  /** Longest pause between polls. */
  maxPollMs?: number;
  /** Growth of the pause after each poll that did not finish the job. */
  pollFactor?: number;
  /** Failed polls in a row (WeCom unavailable, a download failing) before the job is given up. */
  maxConsecutiveFailures?: number;
  /** Jobs remembered, finished ones included (WeCom keeps only the last 5 imports' results, §6.4). */
  retainImports?: number;
  /** Exports remembered with their records (they can be large: the oldest go first). */
  retainExports?: number;
}

export const DEFAULT_TRACKER_OPTIONS = {
  initialPollMs: 500,
  maxPollMs: 10_000,
  pollFactor: 1.5,
  maxConsecutiveFailures: 8,
  retainImports: 200,
  retainExports: 20,
} as const;

/** A job given up on: unknown to WeCom, its results purged, or WeCom failing too often. */
export class JobTrackingError extends Error {}

interface Tracked<S> {
  readonly id: string;
  readonly watch: Watched<S>;
  /** The poll in progress, shared by the poll loop and queries. */
  inflight?: Promise<void>;
  /** Ends the current pause early (notify). */
  wake?: () => void;
  failures: number;
  stopped: boolean;
}

interface TrackedExport extends Tracked<ExportJobState> {
  readonly key: string;
}

export class JobTracker {
  private readonly opts: Required<Omit<JobTrackerOptions, 'logger'>> & { logger?: JobLogger };
  private readonly imports: LRUCache<string, Tracked<ImportJobState>>;
  private readonly exports: LRUCache<string, TrackedExport>;
  private readonly submissions = new IdempotentSubmissions<string>();
  private closed = false;

  constructor(options: JobTrackerOptions) {
    this.opts = { ...DEFAULT_TRACKER_OPTIONS, ...options };
    // A job pushed out of memory stops being polled; anyone still watching it is told.
    const dispose = (job: { id: string; stopped: boolean; wake?: () => void; watch: { done: boolean; fail(error: Error): void } }) => {
      job.stopped = true;
      job.wake?.();
      if (!job.watch.done) job.watch.fail(new JobTrackingError(`job ${job.id} is no longer tracked (too many jobs at once)`));
    };
    this.imports = new LRUCache<string, Tracked<ImportJobState>>({ max: this.opts.retainImports, dispose });
    this.exports = new LRUCache<string, TrackedExport>({ max: this.opts.retainExports, dispose });
  }

  // ── imports ───────────────────────────────────────────────────────────────

  /**
   * Submits an import; with a `key` (the caller's idempotency key), once per key: a retry gets the
   * job already submitted, never a second submission. `submit` uploads and submits, returning
   * WeCom's jobid.
   */
  async submitImport(params: {
    key?: string;
    type: ImportJobType;
    total: number;
    submit: () => Promise<string>;
  }): Promise<{ job: ImportJobState; reused: boolean }> {
    const { value: jobid, reused } =
      params.key === undefined
        ? { value: await params.submit(), reused: false }
        : await this.submissions.run(`${params.type}:${params.key}`, params.submit);
    const tracked =
      this.imports.get(jobid) ??
      this.trackImport({ id: jobid, type: params.type, status: 1, percentage: 0, total: params.total, results: [] });
    return { job: tracked.watch.current, reused };
  }

  /**
   * An import job's state, fresh from WeCom while it runs. A job this service did not submit is
   * looked up (and tracked from then on); null when WeCom does not know it (40088).
   */
  async importJob(id: string): Promise<ImportJobState | null> {
    const tracked = await this.importTracked(id);
    if (!tracked) return null;
    if (!tracked.watch.done) await this.pollOnce(tracked, () => this.pollImport(tracked));
    return tracked.watch.current;
  }

  /** Progress of an import until it finishes; null when WeCom does not know the job. */
  async watchImport(id: string): Promise<AsyncIterableIterator<ImportJobState> | null> {
    return (await this.importTracked(id))?.watch.stream() ?? null;
  }

  // ── exports ───────────────────────────────────────────────────────────────

  /** Submits an export with a fresh key and tracks it until its records are read. */
  async startExport(kind: ExportKind, params: { tagId?: number; blockSize?: number } = {}): Promise<ExportJobState> {
    const key = newExportKey();
    const input = { encodingAesKey: key, ...(params.blockSize !== undefined ? { blockSize: params.blockSize } : {}) };
    const api = this.opts.client.export;
    const { jobid } =
      kind === 'users'
        ? await api.simpleUsers(input)
        : kind === 'userDetails'
          ? await api.users(input)
          : kind === 'departments'
            ? await api.departments(input)
            : await api.tagUsers({ ...input, tagid: params.tagId! });
    const state: ExportJobState = {
      id: jobid,
      kind,
      status: 'pending',
      fileCount: 0,
      ...(params.tagId !== undefined ? { tagId: params.tagId } : {}),
    };
    const tracked: TrackedExport = { id: jobid, key, watch: new Watched(state), failures: 0, stopped: false };
    this.exports.set(jobid, tracked);
    void this.run(tracked, () => this.pollExport(tracked));
    return state;
  }

  /** An export this service started (only it holds the key to the files); null otherwise. */
  exportJob(id: string): ExportJobState | null {
    return this.exports.get(id)?.watch.current ?? null;
  }

  watchExport(id: string): AsyncIterableIterator<ExportJobState> | null {
    return this.exports.get(id)?.watch.stream() ?? null;
  }

  // ── both ──────────────────────────────────────────────────────────────────

  /**
   * WeCom says job `jobId` has finished (a batch_job_result callback): poll it now instead of at
   * the next backoff step. False when this service does not track the job.
   */
  notify(jobId: string): boolean {
    const tracked = this.imports.get(jobId) ?? this.exports.get(jobId);
    if (!tracked) return false;
    tracked.wake?.();
    return true;
  }

  /** Stops every poller (subscribers' streams stay open until their clients leave). */
  close(): void {
    this.closed = true;
    for (const job of [...this.imports.values(), ...this.exports.values()]) {
      job.stopped = true;
      job.wake?.();
    }
  }

  // ── polling ───────────────────────────────────────────────────────────────

  private trackImport(state: ImportJobState): Tracked<ImportJobState> {
    const tracked: Tracked<ImportJobState> = { id: state.id, watch: new Watched(state), failures: 0, stopped: false };
    this.imports.set(state.id, tracked);
    if (state.status === 3) this.finishImport(tracked, state);
    else void this.run(tracked, () => this.pollImport(tracked));
    return tracked;
  }

  private async importTracked(id: string): Promise<Tracked<ImportJobState> | null> {
    const known = this.imports.get(id);
    if (known) return known;
    let result: ImportJobResult;
    try {
      result = await this.opts.client.batch.getResult(id);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    return this.imports.get(id) ?? this.trackImport(importState(id, result));
  }

  /** The poll loop of one job: backoff between polls, a notify cuts the pause short. */
  private async run<S>(tracked: Tracked<S>, poll: () => Promise<void>): Promise<void> {
    let pause = this.opts.initialPollMs;
    while (!tracked.watch.done && !tracked.stopped && !this.closed) {
      const controller = new AbortController();
      tracked.wake = () => controller.abort();
      await delay(pause, undefined, { signal: controller.signal, ref: false }).catch(() => undefined);
      tracked.wake = undefined;
      if (tracked.watch.done || tracked.stopped || this.closed) break;
      await this.pollOnce(tracked, poll);
      pause = Math.min(this.opts.maxPollMs, pause * this.opts.pollFactor);
    }
  }

  /** One poll at a time per job; a failure is counted and, past the limit, ends the job's watch. */
  private pollOnce<S>(tracked: Tracked<S>, poll: () => Promise<void>): Promise<void> {
    tracked.inflight ??= poll()
      .then(() => {
        tracked.failures = 0;
      })
      .catch((err: unknown) => {
        const gone = err instanceof WeComApiError && (isNotFound(err) || err.errcode === 40089);
        tracked.failures++;
        this.opts.logger?.warn?.(
          { jobId: tracked.id, error: err instanceof Error ? err.message : String(err), failures: tracked.failures },
          'job poll failed',
        );
        if (gone || tracked.failures >= this.opts.maxConsecutiveFailures) {
          const reason = gone
            ? `WeCom no longer knows job ${tracked.id} (errcode ${(err as WeComApiError).errcode})`
            : `job ${tracked.id}: WeCom failed ${tracked.failures} polls in a row`;
          tracked.watch.fail(new JobTrackingError(reason));
        }
      })
      .finally(() => {
        tracked.inflight = undefined;
      });
    return tracked.inflight;
  }

  private async pollImport(tracked: Tracked<ImportJobState>): Promise<void> {
    const state = importState(tracked.id, await this.opts.client.batch.getResult(tracked.id));
    if (state.status === 3) this.finishImport(tracked, state);
    else tracked.watch.update(state);
  }

  private finishImport(tracked: Tracked<ImportJobState>, state: ImportJobState): void {
    tracked.watch.finish(state);
    // An import may have changed anything: whatever was cached is stale.
    this.opts.changes.publish({ kind: 'DIRECTORY_RELOADED', source: 'import' });
  }

  private async pollExport(tracked: TrackedExport): Promise<void> {
    const result = await this.opts.client.export.getResult(tracked.id);
    const current = tracked.watch.current;
    if (result.status === 0 || result.status === 1) {
      const status = result.status === 0 ? 'pending' : 'running';
      if (status !== current.status) tracked.watch.update({ ...current, status });
      return;
    }
    if (result.status === 3) {
      tracked.watch.finish({ ...current, status: 'failed' });
      return;
    }
    if (current.status !== 'running') tracked.watch.update({ ...current, status: 'running', fileCount: result.dataList.length });
    const contents = await this.readExportFiles(tracked, result.dataList);
    tracked.watch.finish({ ...current, status: 'finished', fileCount: result.dataList.length, contents });
  }

  /** Downloads the files one after another (they can be large), each checked and decrypted by the client. */
  private async readExportFiles(tracked: TrackedExport, files: ExportFileRef[]): Promise<ExportContents> {
    const documents: Record<string, unknown>[] = [];
    for (const file of files) documents.push(await this.opts.client.export.downloadJson(file, tracked.key));
    return exportContents(tracked.watch.current.kind, documents);
  }
}

function importState(id: string, result: ImportJobResult): ImportJobState {
  return {
    id,
    type: result.type,
    status: result.status,
    percentage: result.status === 3 ? 100 : result.percentage,
    total: result.total,
    results: result.status === 3 ? result.result : [],
  };
}
