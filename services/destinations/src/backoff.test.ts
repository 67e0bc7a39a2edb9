import { describe, expect, it } from 'vitest';
import { backoffDelay, nextAttempt, retryAfterMs } from './backoff';

const backoff = { baseMs: 1000, maxMs: 60_000 };

describe('retry backoff', () => {
  it('waits up to base × 2^(attempt − 1), capped, with full jitter', () => {
    expect(backoffDelay(1, backoff, () => 0.999999)).toBe(999);
    expect(backoffDelay(3, backoff, () => 0.5)).toBe(2000);
    expect(backoffDelay(30, backoff, () => 0.5)).toBe(30_000);
    expect(backoffDelay(4, backoff, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-03-01T12:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Sat, 01 Mar 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  it('honours Retry-After over the backoff', () => {
    expect(
      nextAttempt({ attempts: 1, createdAt: 0, now: 1000, retryAfterMs: 5000, backoff, horizonMs: 86_400_000 }),
    ).toEqual({ retryAt: 6000 });
    // Retry-After: 0 still waits the backoff's base, not a busy loop.
    expect(
      nextAttempt({ attempts: 1, createdAt: 0, now: 1000, retryAfterMs: 0, backoff, horizonMs: 86_400_000 }),
    ).toEqual({ retryAt: 1000 + backoff.baseMs });
  });

  it('gives up once the next attempt would fall past the horizon', () => {
    const decision = nextAttempt({
      attempts: 9,
      createdAt: 0,
      now: 59_000,
      retryAfterMs: null,
      backoff,
      horizonMs: 60_000,
      random: () => 0.5,
    });
    expect(decision).toMatchObject({ dead: expect.stringContaining('gave up after 9 attempt(s)') });
    expect(
      nextAttempt({
        attempts: 1,
        createdAt: 0,
        now: 1000,
        retryAfterMs: null,
        backoff,
        horizonMs: 60_000,
        random: () => 0.5,
      }),
    ).toEqual({ retryAt: 1500 });
  });
});
