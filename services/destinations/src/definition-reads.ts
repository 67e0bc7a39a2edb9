// The destinations list as the trigger consumer and the timer poller read it: cached for a moment, read again when a
// batch is newer than the list, and under load one read shared by the batches of a short gap instead of one each.
import { setTimeout as sleep } from 'node:timers/promises';

export interface SharedReads<T> {
  /** The list, read at `notBefore` (epoch ms) or later and at most `cacheMs` ago. */
  (notBefore?: number): Promise<T>;
  /** Drops the cached list: the next call reads again (a change made through this process). */
  forget(): void;
}

/**
 * Wraps `read` so that a call is answered from the list read last when that began at or after `notBefore` and at
 * most `cacheMs` ago, and otherwise by a read that begins after the call: the next one, which begins at least `gapMs`
 * after the one before and which every call until then shares.
 */
export function sharedReads<T>(read: () => Promise<T>, options: { cacheMs: number; gapMs: number }): SharedReads<T> {
  let cached: { at: number; value: Promise<T> } | null = null;
  // The next read, not begun yet.
  let upcoming: Promise<T> | null = null;
  let lastReadAt = -Infinity;
  const begin = () => {
    lastReadAt = Date.now();
    const value = read();
    const entry = { at: lastReadAt, value };
    cached = entry;
    value.catch(() => {
      if (cached === entry) cached = null;
    });
    return value;
  };
  const reads = ((notBefore = 0) => {
    if (cached && Date.now() - cached.at <= options.cacheMs && cached.at >= notBefore) return cached.value;
    if (upcoming) return upcoming;
    const wait = lastReadAt + options.gapMs - Date.now();
    if (wait <= 0) return begin();
    upcoming = sleep(wait).then(() => {
      upcoming = null;
      return begin();
    });
    return upcoming;
  }) as SharedReads<T>;
  reads.forget = () => {
    cached = null;
  };
  return reads;
}
