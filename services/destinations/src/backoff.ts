// When a failed delivery is tried again: exponential backoff with full jitter, or what the receiver's Retry-After asks.

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/** A random wait in [0, min(max, base × 2^(attempt − 1))]: full jitter spreads retries of many deliveries apart. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.floor(random() * ceiling);
}

/** Retry-After as milliseconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export type RetryDecision = { retryAt: number } | { dead: string };

/**
 * After a failed attempt: the next attempt's time, or dead once it would fall past the horizon (counted from the
 * delivery's creation). A Retry-After beyond the horizon is dead at once rather than waited for; one shorter than the
 * backoff's base waits the base.
 */
export function nextAttempt(options: {
  attempts: number;
  createdAt: number;
  now: number;
  retryAfterMs: number | null;
  backoff: Backoff;
  horizonMs: number;
  random?: () => number;
}): RetryDecision {
  // A receiver asking for `Retry-After: 0` (or a date past) still waits the first retry's longest wait, not a busy loop.
  const wait =
    options.retryAfterMs === null
      ? backoffDelay(options.attempts, options.backoff, options.random)
      : Math.max(options.retryAfterMs, options.backoff.baseMs);
  const retryAt = options.now + wait;
  if (retryAt > options.createdAt + options.horizonMs)
    return {
      dead: `gave up after ${options.attempts} attempt(s) within the retry horizon of ${Math.round(options.horizonMs / 1000)} s`,
    };
  return { retryAt };
}
