/**
 * An entry-count bound for lru-cache whose storage grows with use. Given `max`, lru-cache
 * allocates its index arrays for all `max` entries up front (about 40 bytes an entry with a TTL):
 * 4 MB for a 100,000-entry bound, whether it ever holds ten entries or all of them. The caches
 * below are sized for the worst case and mostly hold far fewer, so they count entries as sizes.
 */
export function atMostEntries(count: number): { maxSize: number; sizeCalculation: () => number } {
  return { maxSize: count, sizeCalculation: () => 1 };
}
