import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Sampling period of the delay monitor, ms: fine enough to see a 10 ms stall, cheap enough to leave on. */
export const EVENT_LOOP_RESOLUTION_MS = 5;

export interface EventLoopDelaySample {
  /** Percentiles and maximum of the delay since the previous sample, seconds (0 when nothing was recorded). */
  p50: number;
  p99: number;
  max: number;
  /** Mean delay, seconds. */
  mean: number;
}

/**
 * How long callbacks waited for the event loop (perf_hooks.monitorEventLoopDelay): the figure that
 * shows one request holding the loop for everyone. Each `sample()` reports the interval since the
 * previous one and starts a new interval (as prom-client's own event-loop metrics do at scrape).
 */
export class EventLoopDelay {
  private readonly histogram: IntervalHistogram;

  constructor(resolutionMs = EVENT_LOOP_RESOLUTION_MS) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  sample(): EventLoopDelaySample {
    const h = this.histogram;
    // The histogram records nanoseconds; with no samples yet its min is a huge sentinel.
    const seconds = (ns: number) => (h.count > 0 && Number.isFinite(ns) ? ns / 1e9 : 0);
    const out = { p50: seconds(h.percentile(50)), p99: seconds(h.percentile(99)), max: seconds(h.max), mean: seconds(h.mean) };
    h.reset();
    return out;
  }

  close(): void {
    this.histogram.disable();
  }
}
