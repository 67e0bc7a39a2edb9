// The profile change codec: what the resolver encodes is what a consumer decodes, and bad input is refused, not guessed.
import { describe, expect, it } from 'vitest';
import { decodeProfileChange, encodeProfileChange, type ProfileChange } from './profile-change';

const merge: ProfileChange = {
  profileId: 'prf_survivor',
  merged: ['prf_absorbed_1', 'prf_absorbed_2'],
  events: 3,
  at: Date.parse('2025-05-01T08:00:00.123Z'),
  version: 2 ** 40,
};

describe('profile change codec', () => {
  it('decodes what it encoded, with merged profiles and without', () => {
    expect(decodeProfileChange(encodeProfileChange(merge))).toEqual(merge);
    const eventsOnly: ProfileChange = { profileId: 'prf_khách_hàng', merged: [], events: 1, at: 0, version: 0 };
    expect(decodeProfileChange(encodeProfileChange(eventsOnly))).toEqual(eventsOnly);
  });

  it('refuses to encode a value the schema does not hold', () => {
    expect(() => encodeProfileChange({ ...merge, events: 1.5 })).toThrow();
    expect(() => encodeProfileChange({ ...merge, merged: [42] } as unknown as ProfileChange)).toThrow();
    expect(() => encodeProfileChange({ ...merge, profileId: undefined } as unknown as ProfileChange)).toThrow();
  });

  it('refuses a cut, padded or foreign buffer', () => {
    const encoded = encodeProfileChange(merge);
    expect(() => decodeProfileChange(encoded.subarray(0, encoded.length - 1))).toThrow(/truncated/);
    expect(() => decodeProfileChange(Buffer.concat([encoded, Buffer.of(0)]))).toThrow(/trailing/);
    expect(() => decodeProfileChange(Buffer.from('not avro at all'))).toThrow();
  });
});
