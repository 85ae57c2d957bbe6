import type { EmulatorLogger } from './options.ts';
import { randomBytes } from 'node:crypto';
import type { Caller } from './model.ts';
import { fail } from './errors.ts';
import { perCorp } from './corp-state.ts';
import { IMPORT_JOBS_KEPT } from 'wecom-protocol/limits';

/**
 * Asynchronous jobs (docs/wecom-api.md §6.3–§6.4): the slice runner shared with the exports, and the
 * import-job registry behind batch/syncuser, batch/replaceuser, batch/replaceparty and
 * batch/getresult.
 */

// ── running work in slices ──────────────────────────────────────────────────

/**
 * Work is cut into about this many slices whatever its size, so a job takes a few hundred
 * milliseconds and a caller polling getresult sees it at intermediate percentages.
 */
export const TARGET_SLICES = 40;
/** Small jobs still do at least this many records per slice. */
export const MIN_UNITS_PER_SLICE = 25;
/** Pause between slices (and before the first one): other requests are served in between. */
export const SLICE_INTERVAL_MS = 5;

export interface SliceHooks {
  /** Before the first unit of work. */
  onStart(): void;
  /** After each slice, with the units done so far. */
  onProgress(done: number): void;
  onDone(): void;
  /** The work threw something that is not a per-record refusal: a bug in the emulator. */
  onError(err: unknown): void;
}

/**
 * Runs generators in slices on timers: each `yield` of the generator is one unit of work (one
 * CSV record, one exported user). `stop()` cancels everything (the corp was reset).
 */
export class SliceRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  run(units: number, work: Iterator<unknown>, hooks: SliceHooks): void {
    const perSlice = Math.max(MIN_UNITS_PER_SLICE, Math.ceil(units / TARGET_SLICES));
    let done = 0;
    let started = false;
    const tick = (): void => {
      if (this.stopped) return;
      try {
        if (!started) {
          started = true;
          hooks.onStart();
        }
        for (let n = 0; n < perSlice; n++) {
          if (work.next().done) {
            hooks.onDone();
            return;
          }
          done++;
        }
        hooks.onProgress(done);
      } catch (err) {
        hooks.onError(err);
        return;
      }
      this.schedule(tick);
    };
    this.schedule(tick);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, SLICE_INTERVAL_MS);
    // A pending job must not keep a process alive on its own (the HTTP server does that).
    timer.unref();
    this.timers.add(timer);
  }
}

/** `jobid`: at most 64 bytes; WeCom's look like "S0MrnndvRG5fadSlLwiBqiDDbM143UqTmKP3152FZk4". */
export function newJobId(): string {
  return randomBytes(48)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 43);
}

/**
 * Who submitted a job. A job's results are readable only by the identity that submitted it
 * ("only jobs previously submitted can be queried"; exports: "the same identity"): the
 * contacts-sync secret, one app, or the admin console (which may read every job).
 */
export type JobOwner = 'contact' | 'console' | `app:${number}`;

export function jobOwner(caller: Caller): JobOwner {
  return caller.kind === 'app' ? `app:${caller.agentId}` : caller.kind;
}

/** True when `caller` may read a job submitted by `owner`. */
export function mayReadJob(caller: Caller, owner: JobOwner): boolean {
  return caller.kind === 'console' || jobOwner(caller) === owner;
}

/** Percentage shown while running: rises with the work done, 100 only once finished. */
export function runningPercentage(done: number, units: number): number {
  if (units <= 0) return 0;
  return Math.min(99, Math.floor((done * 100) / units));
}

// ── import jobs ─────────────────────────────────────────────────────────────

export type ImportJobType = 'sync_user' | 'replace_user' | 'replace_party';

/** 1 started, 2 running, 3 finished (§6.4). */
export type ImportStatus = 1 | 2 | 3;

export interface UserImportResult {
  userid: string;
  errcode: number;
  errmsg: string;
}

export interface PartyImportResult {
  /** Bit mask: 1 created, 2 renamed, 4 moved, 8 reordered. */
  action: number;
  partyid: number;
  errcode: number;
  errmsg: string;
}

export type ImportResult = UserImportResult | PartyImportResult;

/** The per-job callback of the submission body (§6.3). */
export interface JobCallback {
  url: string;
  token: string;
  encodingaeskey: string;
}

export interface ImportJob {
  readonly jobid: string;
  readonly type: ImportJobType;
  readonly owner: JobOwner;
  /** Records in the file. */
  readonly total: number;
  readonly callback: JobCallback | undefined;
  status: ImportStatus;
  percentage: number;
  /** Per-record outcomes, filled while the job runs and shown once it has finished. */
  result: ImportResult[];
  /** Older than the 5 most recent jobs: its results are gone (40089). */
  purged: boolean;
}

export interface ImportSpec {
  type: ImportJobType;
  owner: JobOwner;
  total: number;
  callback: JobCallback | undefined;
  logger: EmulatorLogger;
  /** Units of work (records, plus deletions) for the percentage. */
  units: number;
  /** The work: yields once per unit and pushes per-record outcomes to `job.result`. */
  work(job: ImportJob): Iterator<unknown>;
  /** Runs once the job has finished (the batch_job_result event). */
  onFinished?(job: ImportJob): void;
}

/** The corp's import jobs: one at a time, the results of the last five kept. */
export class ImportJobs {
  private readonly runner = new SliceRunner();
  private readonly stopped = new AbortController();
  private readonly byId = new Map<string, ImportJob>();
  /** Job ids in submission order, for the retention rule. */
  private readonly order: string[] = [];
  private running: ImportJob | undefined;

  /** 302008 while another import job has not finished (one at a time, §6.3). */
  assertIdle(): void {
    if (this.running) throw fail(302008, `job ${this.running.jobid} is still running`);
  }

  submit(spec: ImportSpec): ImportJob {
    this.assertIdle();
    const job: ImportJob = {
      jobid: newJobId(),
      type: spec.type,
      owner: spec.owner,
      total: spec.total,
      callback: spec.callback,
      status: 1,
      percentage: 0,
      result: [],
      purged: false,
    };
    this.byId.set(job.jobid, job);
    this.order.push(job.jobid);
    this.purgeOld();
    this.running = job;
    const finish = () => {
      job.status = 3;
      job.percentage = 100;
      this.running = undefined;
      spec.onFinished?.(job);
    };
    this.runner.run(spec.units, spec.work(job), {
      onStart: () => {
        job.status = 2;
      },
      onProgress: (done) => {
        job.percentage = runningPercentage(done, spec.units);
      },
      onDone: finish,
      onError: (err) => {
        spec.logger.error({ err }, 'import job failed');
        finish();
      },
    });
    return job;
  }

  /** A job `caller` may read: 40088 unknown (or submitted by someone else), 40089 purged. */
  lookup(jobid: string | undefined, caller: Caller): ImportJob {
    const job = jobid ? this.byId.get(jobid) : undefined;
    if (!job || !mayReadJob(caller, job.owner)) throw fail(40088, jobid ? undefined : 'jobid missing');
    if (job.purged) throw fail(40089, `only the results of the last ${IMPORT_JOBS_KEPT} jobs are kept`);
    return job;
  }

  /** Aborted when the corp is reset: completion callbacks still in flight stop. */
  get signal(): AbortSignal {
    return this.stopped.signal;
  }

  stop(): void {
    this.runner.stop();
    this.stopped.abort();
    this.running = undefined;
  }

  private purgeOld(): void {
    for (let i = 0; i < this.order.length - IMPORT_JOBS_KEPT; i++) {
      const job = this.byId.get(this.order[i]!)!;
      if (!job.purged) {
        job.purged = true;
        job.result = [];
      }
    }
  }
}

export const importJobs = perCorp(
  () => new ImportJobs(),
  (jobs) => jobs.stop(),
);

/** The body of batch/getresult: `result` only once the job has finished. */
export function importJobView(job: ImportJob): Record<string, unknown> {
  return {
    status: job.status,
    type: job.type,
    total: job.total,
    percentage: job.percentage,
    ...(job.status === 3 ? { result: job.result } : {}),
  };
}
