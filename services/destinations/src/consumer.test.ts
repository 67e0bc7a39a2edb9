// When follow-ups may be checked: only once the trigger consumer has committed what the log held at an instant.
import { describe, expect, it } from 'vitest';
import { passedMark, type LogMark } from './consumer';

describe('the instant the trigger consumer has caught up to', () => {
  it('is the latest mark whose ends every partition has committed, and passed marks are dropped', () => {
    const marks: LogMark[] = [
      { at: 1000, ends: { 0: '5', 1: '3' } },
      { at: 2000, ends: { 0: '7', 1: '3' } },
      { at: 3000, ends: { 0: '9', 1: '4' } },
    ];
    // An awaited event appended at offset 7 of partition 0 is not committed yet: nothing after 1000 may be checked.
    expect(passedMark(marks, { 0: '6', 1: '3' }, {})).toBe(1000);
    expect(marks.map((mark) => mark.at)).toEqual([2000, 3000]);
    expect(passedMark(marks, { 0: '6', 1: '3' }, {})).toBe(0);
    expect(passedMark(marks, { 0: '9', 1: '4' }, {})).toBe(3000);
    expect(marks).toEqual([]);
  });

  it('counts a partition the group never committed in from where the consumer started, and nothing else as read', () => {
    expect(passedMark([{ at: 1000, ends: { 0: '4', 1: '8' } }], { 0: '4' }, { 1: '8' })).toBe(1000);
    expect(passedMark([{ at: 1000, ends: { 0: '4', 1: '9' } }], { 0: '4' }, { 1: '8' })).toBe(0);
    expect(passedMark([{ at: 1000, ends: { 0: '1' } }], {}, {})).toBe(0);
    expect(passedMark([{ at: 1000, ends: { 0: '0' } }], {}, {})).toBe(1000);
  });

  it('keeps the newest hundred marks while the consumer lags', () => {
    const marks: LogMark[] = Array.from({ length: 150 }, (_, index) => ({
      at: index + 1,
      ends: { 0: String(index + 1) },
    }));
    expect(passedMark(marks, { 0: '0' }, {})).toBe(0);
    expect(marks).toHaveLength(100);
    expect(marks[0]?.at).toBe(51);
    expect(passedMark(marks, { 0: '60' }, {})).toBe(60);
  });
});
