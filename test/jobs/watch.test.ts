import { describe, expect, it } from 'vitest';
import { Watched } from '../../src/jobs/watch.ts';

describe('Watched', () => {
  it('gives each stream the current state, then the newest state at each read, then ends', async () => {
    const watch = new Watched(0);
    const stream = watch.stream();
    expect(await stream.next()).toEqual({ value: 0, done: false });
    watch.update(1);
    watch.update(2);
    // 1 was superseded before the stream read again: progress streams coalesce.
    expect(await stream.next()).toEqual({ value: 2, done: false });
    const pending = stream.next();
    watch.finish(3);
    expect(await pending).toEqual({ value: 3, done: false });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    // A late subscriber gets the final state, then the end.
    const late = watch.stream();
    expect(await late.next()).toEqual({ value: 3, done: false });
    expect(await late.next()).toEqual({ value: undefined, done: true });
  });

  it('ends streams with the failure after the last state', async () => {
    const watch = new Watched('a');
    const stream = watch.stream();
    await stream.next();
    watch.update('b');
    watch.fail(new Error('lost'));
    expect(await stream.next()).toEqual({ value: 'b', done: false });
    await expect(stream.next()).rejects.toThrow('lost');
    await expect(watch.settled()).rejects.toThrow('lost');
  });

  it('detaches a stream its reader abandons, even while it waits', async () => {
    const watch = new Watched(0);
    const stream = watch.stream();
    await stream.next();
    const waiting = stream.next();
    await stream.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    watch.update(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
