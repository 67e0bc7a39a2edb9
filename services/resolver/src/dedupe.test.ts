// The dedupe window: remembers what was stored for its window and up to its size, oldest forgotten first.
import { describe, expect, it } from 'vitest';
import { createDedupeWindow } from './dedupe';

describe('dedupe window', () => {
  it('knows a messageId stored within the window, and forgets it after', () => {
    let clock = 1_000_000;
    const window = createDedupeWindow({ windowMs: 60_000, maxIds: 10, now: () => clock });
    window.remember(['m1']);
    clock += 59_000;
    expect(window.seen('m1')).toBe(true);
    expect(window.seen('m2')).toBe(false);
    clock += 2000;
    expect(window.seen('m1')).toBe(false);
    window.remember(['m3']);
    expect(window.size).toBe(1);
  });

  it('keeps at most its size, forgetting the oldest first; a messageId stored again counts from then', () => {
    let clock = 0;
    const window = createDedupeWindow({ windowMs: 1_000_000, maxIds: 3, now: () => clock });
    window.remember(['a', 'b', 'c']);
    clock += 1;
    window.remember(['a']);
    window.remember(['d']);
    expect(['a', 'b', 'c', 'd'].map((id) => window.seen(id))).toEqual([true, false, true, true]);
    expect(window.size).toBe(3);
  });
});
