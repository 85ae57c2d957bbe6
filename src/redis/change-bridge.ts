import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CHANGE_KINDS, type ChangeBus, type DirectoryChange } from '../directory/changes.ts';
import type { RedisLogger } from './connection.ts';
import type { RedisFallbacks } from './fallbacks.ts';

/**
 * Carries directory changes between instances over Redis pub/sub, so a mutation, import or
 * callback handled by one instance reaches every instance's ChangeBus: their caches drop what it
 * makes wrong, and their `contactChanged` subscribers hear of it. (Subscriptions listen to the
 * bus through the change feed, so the bus is the one thing to carry; Yoga's own pubsub is not used.)
 *
 * A change heard from Redis is published on the local bus marked as remote (a WeakSet of the
 * objects), so it is not sent back out: no echo loops. Delivery is at most once and in order per
 * publishing instance (Redis pub/sub); an instance that was disconnected misses what was said
 * meanwhile, so on reconnecting it publishes DIRECTORY_RELOADED locally (its cache starts over).
 */

interface Envelope {
  /** The publishing instance. */
  origin: string;
  change: DirectoryChange;
}

/** Kinds a message may carry: anything else from the channel is malformed. */
const KNOWN_KINDS = new Set<string>(CHANGE_KINDS);

export interface ChangeBridgeStats {
  published: number;
  received: number;
  /** Messages on the channel that were not a change (ignored). */
  malformed: number;
}

export class ChangeBridge {
  readonly instanceId = randomBytes(8).toString('hex');
  private readonly remote = new WeakSet<DirectoryChange>();
  private readonly channel: string;
  private readonly counters: ChangeBridgeStats = { published: 0, received: 0, malformed: 0 };
  private detachBus: (() => void) | undefined;
  /** The subscriber connection dropped after subscribing: what was published meanwhile is lost. */
  private lost = false;
  private subscribed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly options: { prefix: string; corpId: string; logger: RedisLogger; fallbacks: RedisFallbacks },
  ) {
    this.channel = `${options.prefix}changes:${options.corpId}`;
  }

  /** Starts carrying `bus`'s changes both ways; resolves once subscribed. */
  async attach(bus: ChangeBus): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(bus, message);
    });
    // ioredis re-subscribes after a reconnect; what was published meanwhile is lost, so this
    // instance's cache starts over and its subscribers are told to reload.
    this.subscriber.on('close', () => {
      if (this.subscribed) this.lost = true;
    });
    this.subscriber.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      this.options.logger.warn({}, 'redis change channel reconnected; changes made meanwhile are unknown: dropping the directory cache');
      this.deliver(bus, { kind: 'DIRECTORY_RELOADED', source: 'callback' });
    });
    if (this.subscriber.status === 'wait') await this.subscriber.connect();
    await this.subscriber.subscribe(this.channel);
    this.subscribed = true;
    this.detachBus = bus.subscribe((change) => {
      if (!this.remote.has(change)) void this.publish(change);
    });
  }

  /** Whether `change` was heard from another instance (that instance has dealt with Redis's side of it). */
  isRemote(change: DirectoryChange): boolean {
    return this.remote.has(change);
  }

  stats(): ChangeBridgeStats {
    return { ...this.counters };
  }

  detach(): void {
    this.detachBus?.();
    this.detachBus = undefined;
  }

  private async publish(change: DirectoryChange): Promise<void> {
    const envelope: Envelope = { origin: this.instanceId, change };
    try {
      await this.publisher.publish(this.channel, JSON.stringify(envelope));
      this.counters.published++;
    } catch (err) {
      this.options.fallbacks.report(
        'change-broadcast',
        'publish',
        err,
        'other instances do not hear of this change until their cache entries expire',
      );
    }
  }

  private receive(bus: ChangeBus, message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      this.counters.malformed++;
      return;
    }
    if (!envelope || typeof envelope.origin !== 'string' || !envelope.change || !KNOWN_KINDS.has(envelope.change.kind)) {
      this.counters.malformed++;
      return;
    }
    // Our own message coming back: the local bus has it already.
    if (envelope.origin === this.instanceId) return;
    this.counters.received++;
    this.deliver(bus, envelope.change);
  }

  private deliver(bus: ChangeBus, change: DirectoryChange): void {
    this.remote.add(change);
    try {
      bus.publish(change);
    } catch (err) {
      this.options.logger.warn(
        { error: err instanceof Error ? err.message : String(err), kind: change.kind },
        'applying a change from another instance failed',
      );
    }
  }
}
