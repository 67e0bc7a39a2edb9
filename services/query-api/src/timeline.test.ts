// Timeline cursors: only what this API hands out is read back; an impossible time is no cursor (a 400, not a 500).
import { describe, expect, it } from 'vitest';
import { decodeCursor } from './timeline';

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('decodeCursor', () => {
  it('reads back a cursor of a real time and a messageId', () => {
    expect(decodeCursor(cursor(['2025-03-01 12:00:00.000', 'm1']))).toEqual({
      timestamp: '2025-03-01 12:00:00.000',
      messageId: 'm1',
    });
    expect(decodeCursor(cursor(['2024-02-29 23:59:59', 'm2']))).toEqual({
      timestamp: '2024-02-29 23:59:59',
      messageId: 'm2',
    });
  });

  it('refuses a time that does not exist, and anything that is not a cursor', () => {
    for (const time of [
      '2025-13-01 00:00:00',
      '2025-02-30 10:00:00',
      '2025-02-29 10:00:00',
      '2025-03-01 25:61:00',
      '2025-03-01 12:00:60.000',
      '2025-00-10 10:00:00',
      '2025-01-00 10:00:00',
      '2025-04-31 10:00:00',
    ]) {
      expect(decodeCursor(cursor([time, 'm'])), time).toBeNull();
    }
    expect(decodeCursor(cursor(['2025-03-01 12:00:00', 7]))).toBeNull();
    expect(decodeCursor('not base64 json')).toBeNull();
  });
});
