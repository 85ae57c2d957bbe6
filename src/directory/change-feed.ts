import { randomBytes } from 'node:crypto';
import type { ChangeBus, ChangeKind, DirectoryChange } from './changes.ts';

/**
 * The directory's recent changes in order, for clients that were away (`directoryChanges(since)`,
 * like Microsoft Graph's delta) and for live subscribers (`contactChanged`). Every change on the
 * ChangeBus gets the next sequence number; a bounded window of them is kept (by count and by
 * age). Cursors name a sequence number of this process's feed: a cursor from before a restart, or
 * older than the window, cannot be continued and the client must resync. Callers limited to
 * department subtrees read it through a view of their own (change-view.ts), numbered apart.
 */

export interface RecordedChange {
  sequence: number;
  /** Opaque; pass it back to continue after this change. */
  cursor: string;
  /** When the service learned of the change (ms since the epoch). */
  occurredAt: number;
  change: DirectoryChange;
}

export interface ChangeFeedOptions {
  /** At most this many changes are kept. */
  maxEntries: number;
  /** Changes older than this are dropped. */
  retentionMs: number;
  /** Wall clock in ms; Date.now by default. */
  now?: () => number;
}

export const DEFAULT_CHANGE_FEED_OPTIONS: ChangeFeedOptions = { maxEntries: 10_000, retentionMs: 24 * 60 * 60 * 1000 };
/** A live subscriber that falls this far behind is cut off (it can resume from its last cursor). */
export const MAX_PENDING_PER_SUBSCRIBER = 10_000;

export type ChangeFeedErrorCode =
  /** The cursor is older than what the feed keeps, or from an earlier run of the service. */
  | 'CHANGE_FEED_EXPIRED'
  /** The cursor is not one this feed hands out. */
  | 'BAD_CURSOR'
  /** A live subscriber did not keep up. */
  | 'CHANGE_STREAM_OVERFLOW';

export class ChangeFeedError extends Error {
  override readonly name = 'ChangeFeedError';
  constructor(
    readonly code: ChangeFeedErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ChangePage {
  changes: RecordedChange[];
  /** Where to continue from: the last change returned, or the starting point when none was. */
  endCursor: string;
  /** More changes follow endCursor already. */
  hasMore: boolean;
}

/**
 * One numbering of changes (the feed's, or a view's) and its cursors: `<id>:<sequence>`, base64url.
 * The random id names this numbering in this run of the service, so a cursor of another run or
 * of another numbering is recognised and refused instead of being read as a position here.
 */
export class Numbering {
  private readonly id = randomBytes(6).toString('hex');

  constructor(
    /** How far back a numbering reaches, for the error of a cursor beyond it. */
    private readonly window: string,
  ) {}

  cursorOf(sequence: number): string {
    return Buffer.from(`${this.id}:${sequence}`, 'utf8').toString('base64url');
  }

  /** The sequence a cursor names; errors when it is not ours, of another numbering or run, or beyond the window. */
  sequenceOf(cursor: string, bounds: { last: number; droppedThrough: number }): number {
    const match = /^([0-9a-f]{12}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!match) throw new ChangeFeedError('BAD_CURSOR', 'not a change feed cursor');
    const sequence = Number(match[2]);
    if (match[1] !== this.id) {
      throw new ChangeFeedError(
        'CHANGE_FEED_EXPIRED',
        'the cursor is from an earlier run of the service (or another credential’s view); reload the directory and continue from latestCursor',
      );
    }
    if (sequence > bounds.last) throw new ChangeFeedError('BAD_CURSOR', 'the cursor is ahead of the feed');
    if (sequence < bounds.droppedThrough) {
      throw new ChangeFeedError(
        'CHANGE_FEED_EXPIRED',
        `the cursor is older than the retained changes (${this.window}); reload the directory and continue from latestCursor`,
      );
    }
    return sequence;
  }
}

const feeds = new WeakMap<ChangeBus, ChangeFeed>();

/** The feed of a bus: one per bus, listening from its creation (the service creates it at start). */
export function changeFeedOf(bus: ChangeBus, options: ChangeFeedOptions = DEFAULT_CHANGE_FEED_OPTIONS): ChangeFeed {
  let feed = feeds.get(bus);
  if (!feed) feeds.set(bus, (feed = new ChangeFeed(bus, options)));
  return feed;
}

export class ChangeFeed {
  /** This run's numbering: a cursor from another run is recognised. */
  private readonly numbering: Numbering;
  private readonly now: () => number;
  /** Retained changes, oldest first, from `start` on (the prefix is compacted away in bulk). */
  private items: RecordedChange[] = [];
  private start = 0;
  private lastSequence = 0;
  /** The highest sequence no longer kept (0: nothing dropped yet). */
  private droppedThrough = 0;
  private readonly listeners = new Set<(change: RecordedChange) => void>();
  /** Live streams, so a shutdown can end them cleanly (closeStreams). */
  private readonly streams = new Set<ChangeStream>();

  constructor(
    bus: ChangeBus,
    private readonly options: ChangeFeedOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.numbering = new Numbering(`the last ${options.maxEntries} within ${Math.round(options.retentionMs / 1000)} s`);
    bus.subscribe((change) => this.record(change));
  }

  /** The cursor of the newest change (or of the start, before any change). */
  latestCursor(): string {
    return this.cursorOf(this.lastSequence);
  }

  /** Up to `first` changes after `since` (from the oldest kept when null), oldest first. */
  page(since: string | null, first: number): ChangePage {
    this.prune();
    const after = since === null ? this.droppedThrough : this.sequenceOf(since);
    const retained = this.retained();
    const from = after - this.firstSequence() + 1;
    const changes = retained.slice(Math.max(0, from), Math.max(0, from) + first);
    const end = changes.at(-1)?.sequence ?? after;
    return { changes, endCursor: this.cursorOf(end), hasMore: end < this.lastSequence };
  }

  /**
   * A live stream of changes of the given kinds (all when empty), first replaying those after
   * `since` when given. Ends with CHANGE_STREAM_OVERFLOW if the consumer falls too far behind.
   */
  stream(
    options: {
      kinds?: readonly ChangeKind[];
      since?: string | null;
      maxPending?: number;
      /** Turns the overflow error into what the consumer expects (a GraphQLError). */
      mapError?: (err: ChangeFeedError) => unknown;
    } = {},
  ): ChangeStream {
    this.prune();
    const after = options.since ? this.sequenceOf(options.since) : this.lastSequence;
    const kinds = options.kinds?.length ? new Set(options.kinds) : null;
    const stream = new ChangeStream({
      accept: (change) => !kinds || kinds.has(change.change.kind),
      maxPending: options.maxPending ?? MAX_PENDING_PER_SUBSCRIBER,
      unsubscribe: () => {
        this.listeners.delete(listener);
        this.streams.delete(stream);
      },
      mapError: options.mapError ?? ((err) => err),
    });
    const listener = (change: RecordedChange) => stream.push(change);
    // Replay and subscribe in one synchronous step: no change can fall between the two.
    for (const change of this.retained()) if (change.sequence > after) stream.push(change);
    this.listeners.add(listener);
    this.streams.add(stream);
    return stream;
  }

  /**
   * Ends every live stream once it has delivered what it holds (graceful shutdown): subscribers
   * get a normal end of stream, and can resume elsewhere from their last cursor.
   */
  closeStreams(): void {
    for (const stream of [...this.streams]) stream.end();
  }

  /** For views (change-view.ts): the retained changes after `sequence`, and the highest one no longer kept. */
  retainedAfter(sequence: number): { changes: RecordedChange[]; droppedThrough: number } {
    this.prune();
    const retained = this.retained();
    const from = Math.max(0, sequence - this.firstSequence() + 1);
    return { changes: from === 0 ? retained : retained.slice(from), droppedThrough: this.droppedThrough };
  }

  /** For views: called after each change is recorded; returns the unsubscribe. */
  onRecord(listener: (change: RecordedChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** For views: a stream of theirs that closeStreams ends too; returns the forget. */
  track(stream: ChangeStream): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  private record(change: DirectoryChange): void {
    const recorded: RecordedChange = { sequence: ++this.lastSequence, cursor: '', occurredAt: this.now(), change };
    recorded.cursor = this.cursorOf(recorded.sequence);
    this.items.push(recorded);
    this.prune();
    for (const listener of this.listeners) listener(recorded);
  }

  /** Drops changes beyond the count and age limits. */
  private prune(): void {
    const oldestKept = this.now() - this.options.retentionMs;
    while (this.start < this.items.length) {
      const oldest = this.items[this.start]!;
      if (this.items.length - this.start <= this.options.maxEntries && oldest.occurredAt >= oldestKept) break;
      this.droppedThrough = oldest.sequence;
      this.start++;
    }
    // Compact once the dropped prefix is as long as the window: amortised O(1) per change.
    if (this.start > 0 && this.start >= this.options.maxEntries) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }

  private retained(): RecordedChange[] {
    return this.start === 0 ? this.items : this.items.slice(this.start);
  }

  private firstSequence(): number {
    return this.droppedThrough + 1;
  }

  private cursorOf(sequence: number): string {
    return this.numbering.cursorOf(sequence);
  }

  private sequenceOf(cursor: string): number {
    return this.numbering.sequenceOf(cursor, { last: this.lastSequence, droppedThrough: this.droppedThrough });
  }
}

/**
 * One subscriber's changes: an async iterator with its own bounded queue. `return()` (the client
 * went away) unsubscribes at once, even while a `next()` is waiting.
 */
export class ChangeStream implements AsyncIterableIterator<RecordedChange> {
  private readonly queue: RecordedChange[] = [];
  /** A reader waiting for the next change (nothing is queued while one waits). */
  private waiting: { resolve: (result: IteratorResult<RecordedChange>) => void; reject: (error: unknown) => void } | null = null;
  /** Why the stream ends in an error (an overflow, or a view that could not read a change). */
  private failure: { error: unknown } | null = null;
  private done = false;
  /** end() was called: deliver what is queued, then finish. */
  private ending = false;

  constructor(
    private readonly options: {
      accept: (change: RecordedChange) => boolean;
      maxPending: number;
      unsubscribe: () => void;
      mapError: (err: ChangeFeedError) => unknown;
    },
  ) {}

  push(change: RecordedChange): void {
    if (this.done || this.ending || this.failure || !this.options.accept(change)) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve({ value: change, done: false });
      return;
    }
    if (this.queue.length >= this.options.maxPending) {
      this.fail(
        new ChangeFeedError(
          'CHANGE_STREAM_OVERFLOW',
          `more than ${this.options.maxPending} changes waiting; resume from the last cursor received`,
        ),
      );
      return;
    }
    this.queue.push(change);
  }

  next(): Promise<IteratorResult<RecordedChange>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve({ value: queued, done: false });
    if (this.failure) {
      const { error } = this.failure;
      this.finish();
      return Promise.reject(this.mapped(error));
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.ending) {
      this.finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /**
   * Ends the stream with `error` after the changes already queued, and stops taking more: the
   * consumer resumes from the last cursor it received.
   */
  fail(error: unknown): void {
    if (this.done || this.failure) return;
    this.failure = { error };
    this.options.unsubscribe();
    // A waiting reader means nothing is queued: it gets the error now.
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = null;
      this.finish();
      waiting.reject(this.mapped(error));
    }
  }

  /** Ends the stream after the changes already queued (the service is shutting down). */
  end(): void {
    if (this.done) return;
    this.ending = true;
    // A waiting reader means nothing is queued: it ends now.
    if (this.waiting) this.finish();
  }

  return(): Promise<IteratorResult<RecordedChange>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<RecordedChange>> {
    this.finish();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.options.unsubscribe();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve({ value: undefined, done: true });
  }

  private mapped(error: unknown): unknown {
    return error instanceof ChangeFeedError ? this.options.mapError(error) : error;
  }
}
