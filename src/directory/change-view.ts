import type { ChangeKind, DirectoryChange } from './changes.ts';
import {
  ChangeFeedError,
  ChangeStream,
  MAX_PENDING_PER_SUBSCRIBER,
  Numbering,
  type ChangeFeed,
  type ChangePage,
  type RecordedChange,
} from './change-feed.ts';

/**
 * The change feed as one set of department subtrees sees it (a credential limited to them), with
 * a numbering of its own: its sequences count only the changes it is shown, and its cursors name
 * positions in it. With the feed's own numbers, the gaps between two visible changes, or a
 * latestCursor that moves while nothing is shown, would tell how much happened elsewhere.
 *
 * Each change of the feed is judged once per view, in order (`Classify`: shown, cut to what the
 * view may see, or hidden), when a caller of the view first asks past it or, while one of its
 * subscriptions is open, as it arrives; the verdict then stands, so pages and subscriptions of
 * the view agree on the numbering and a resumed cursor neither repeats nor skips a change.
 *
 * A view keeps what the feed keeps (its entries refer to retained changes). It starts over (a new
 * numbering: its cursors expire) when the feed dropped changes before the view judged them, or
 * when it was forgotten to make room for other views; either way its callers reload, as after a
 * restart.
 */

/** The verdicts on a run of the feed's changes, in their order: the change as shown, or null (hidden). */
export type Classify = (changes: readonly RecordedChange[]) => Promise<readonly (DirectoryChange | null)[]>;

/** Views kept per feed; the least recently used one without an open subscription is forgotten beyond this. */
export const MAX_VIEWS_PER_FEED = 256;

interface ViewEntry {
  /** As the view shows it: its own sequence and cursor. */
  shown: RecordedChange;
  /** The feed's sequence of the change. */
  source: number;
}

export class ChangeView {
  private numbering = this.newNumbering();
  /** Shown changes, oldest first: sequences droppedThrough + 1 … lastSequence, without gaps. */
  private entries: ViewEntry[] = [];
  private lastSequence = 0;
  private droppedThrough = 0;
  /** The feed's sequence judged through; undefined until the first run (then: from the oldest change kept). */
  private judgedThrough: number | undefined;
  /** Runs of judging, one at a time and in order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly subscriptions = new Set<{ stream: ChangeStream; classify: Classify }>();
  private stopListening: (() => void) | undefined;
  private liveRunQueued = false;

  constructor(private readonly feed: ChangeFeed) {}

  /** Whether a subscription is open (the view must not be forgotten then). */
  get subscribed(): boolean {
    return this.subscriptions.size > 0;
  }

  /** Up to `first` shown changes after `since` (from the oldest kept when null), and the view's newest cursor. */
  async page(since: string | null, first: number, classify: Classify): Promise<ChangePage & { latestCursor: string }> {
    await this.enqueue(() => this.judge(classify));
    const after = since === null ? this.droppedThrough : this.sequenceOf(since);
    const from = after - this.droppedThrough;
    const changes = this.entries.slice(from, from + first).map((e) => e.shown);
    const end = changes.at(-1)?.sequence ?? after;
    return {
      changes,
      endCursor: this.numbering.cursorOf(end),
      hasMore: end < this.lastSequence,
      latestCursor: this.numbering.cursorOf(this.lastSequence),
    };
  }

  /**
   * A live stream of the view's changes of the given kinds (all when empty), first replaying those
   * after `since` when given. The stream's `classify` judges changes while it is open.
   */
  async stream(
    options: {
      kinds?: readonly ChangeKind[];
      since?: string | null;
      maxPending?: number;
      mapError?: (err: ChangeFeedError) => unknown;
    },
    classify: Classify,
  ): Promise<ChangeStream> {
    await this.enqueue(() => this.judge(classify));
    const after = options.since ? this.sequenceOf(options.since) : this.lastSequence;
    const kinds = options.kinds?.length ? new Set(options.kinds) : null;
    const subscription = {
      classify,
      stream: new ChangeStream({
        accept: (change) => !kinds || kinds.has(change.change.kind),
        maxPending: options.maxPending ?? MAX_PENDING_PER_SUBSCRIBER,
        unsubscribe: () => {
          forget();
          this.subscriptions.delete(subscription);
          if (this.subscriptions.size === 0) {
            this.stopListening?.();
            this.stopListening = undefined;
          }
        },
        mapError: options.mapError ?? ((err) => err),
      }),
    };
    const forget = this.feed.track(subscription.stream);
    // Replay and subscribe in one synchronous step: no judged change can fall between the two.
    for (const entry of this.entries) if (entry.shown.sequence > after) subscription.stream.push(entry.shown);
    this.subscriptions.add(subscription);
    this.stopListening ??= this.feed.onRecord(() => this.judgeLive());
    // Changes recorded while the replay was being prepared.
    this.judgeLive();
    return subscription.stream;
  }

  /** Judges what arrived, with an open subscription's `classify`; at most one run waits at a time. */
  private judgeLive(): void {
    if (this.liveRunQueued) return;
    this.liveRunQueued = true;
    this.enqueue(() => {
      this.liveRunQueued = false;
      const [open] = this.subscriptions;
      return open ? this.judge(open.classify) : Promise.resolve();
    }).catch((error: unknown) => {
      // The change could not be judged: the subscribers resume from their last cursor (it is judged again then).
      for (const { stream } of [...this.subscriptions]) stream.fail(error);
    });
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Judges the feed's changes after those already judged, in order, and shows the visible ones. */
  private async judge(classify: Classify): Promise<void> {
    const { changes, droppedThrough } = this.feed.retainedAfter(this.judgedThrough ?? 0);
    // A new view starts from the oldest change kept.
    this.judgedThrough ??= droppedThrough;
    if (this.judgedThrough < droppedThrough) this.startOver(droppedThrough);
    this.forgetDropped(droppedThrough);
    if (changes.length === 0) return;
    const verdicts = await classify(changes);
    changes.forEach((change, i) => {
      this.judgedThrough = change.sequence;
      const shown = verdicts[i];
      if (!shown) return;
      const sequence = ++this.lastSequence;
      const entry = {
        shown: { sequence, cursor: this.numbering.cursorOf(sequence), occurredAt: change.occurredAt, change: shown },
        source: change.sequence,
      };
      this.entries.push(entry);
      for (const { stream } of this.subscriptions) stream.push(entry.shown);
    });
  }

  /** Drops the entries of changes the feed no longer keeps. */
  private forgetDropped(feedDroppedThrough: number): void {
    let dropped = 0;
    while (dropped < this.entries.length && this.entries[dropped]!.source <= feedDroppedThrough) dropped++;
    if (dropped === 0) return;
    this.droppedThrough = this.entries[dropped - 1]!.shown.sequence;
    this.entries = this.entries.slice(dropped);
  }

  /**
   * The feed dropped changes this view never judged: what it showed since cannot be numbered
   * reliably any more. A new numbering, so every cursor of the old one expires, and the open
   * subscriptions end with CHANGE_FEED_EXPIRED.
   */
  private startOver(feedDroppedThrough: number): void {
    this.numbering = this.newNumbering();
    this.entries = [];
    this.lastSequence = 0;
    this.droppedThrough = 0;
    this.judgedThrough = feedDroppedThrough;
    const expired = new ChangeFeedError(
      'CHANGE_FEED_EXPIRED',
      'changes were dropped before this credential’s view of the feed could read them; reload the directory and continue from latestCursor',
    );
    for (const { stream } of [...this.subscriptions]) stream.fail(expired);
  }

  private sequenceOf(cursor: string): number {
    return this.numbering.sequenceOf(cursor, { last: this.lastSequence, droppedThrough: this.droppedThrough });
  }

  private newNumbering(): Numbering {
    return new Numbering('the changes the feed keeps');
  }
}

/** The views of one feed, by the key of their subtrees (DepartmentScope.key), least recently used first. */
const viewsOfFeed = new WeakMap<ChangeFeed, Map<string, ChangeView>>();

/** The view of `key` on `feed`, created on first use. */
export function changeViewOf(feed: ChangeFeed, key: string): ChangeView {
  let views = viewsOfFeed.get(feed);
  if (!views) viewsOfFeed.set(feed, (views = new Map()));
  let view = views.get(key);
  if (view) views.delete(key);
  else view = new ChangeView(feed);
  views.set(key, view);
  if (views.size > MAX_VIEWS_PER_FEED) {
    for (const [oldKey, old] of views) {
      if (views.size <= MAX_VIEWS_PER_FEED) break;
      if (!old.subscribed) views.delete(oldKey);
    }
  }
  return view;
}
