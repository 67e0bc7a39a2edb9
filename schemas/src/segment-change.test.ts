// The segment change codec, many at once: each value decodes as encoded, whatever the shared buffers it landed in.
import { describe, expect, it } from 'vitest';
import { decodeSegmentChange, encodeSegmentChanges, type SegmentChange } from './segment-change';

const change = (index: number, segmentId = 'seg_loyal'): SegmentChange => ({
  segmentId,
  profileId: `prf_${index.toString(16).padStart(12, '0')}`,
  change: index % 3 === 0 ? 'exited' : 'entered',
  at: 1_796_554_131_366 + index,
  enteredAt: 1_700_000_000_000 - index,
  version: 2 ** 40 + index,
});

describe('segment change codec', () => {
  it('encodes many values that each decode as they were, across the shared buffers', () => {
    // About 60 bytes each: 20,000 fill several 256 KiB buffers, and one value larger than a buffer gets its own.
    const changes = Array.from({ length: 20_000 }, (_, index) => change(index));
    changes.splice(7_000, 0, change(-1, `seg_${'ü'.repeat(200_000)}`));
    const encoded = encodeSegmentChanges(changes);
    expect(encoded).toHaveLength(changes.length);
    expect(encoded.map(decodeSegmentChange)).toEqual(changes);
    expect(new Set(encoded.map((value) => value.buffer)).size).toBeGreaterThan(2);
  });

  it('refuses a value the schema does not hold', () => {
    expect(() => encodeSegmentChanges([change(1), { ...change(2), change: 'left' as 'exited' }])).toThrow();
    expect(() => encodeSegmentChanges([{ ...change(3), profileId: undefined } as unknown as SegmentChange])).toThrow();
  });
});
