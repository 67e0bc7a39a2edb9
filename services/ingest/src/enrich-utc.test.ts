// Times without an offset are UTC even on a host in Vietnam's zone: Date.parse alone would read them as local time.
import { afterAll, describe, expect, it } from 'vitest';
import { parseMessage } from '@cdp/schemas';
import { enrich, epoch } from './enrich';

const hostZone = process.env.TZ;
process.env.TZ = 'Asia/Ho_Chi_Minh';
afterAll(() => {
  if (hostZone === undefined) delete process.env.TZ;
  else process.env.TZ = hostZone;
});

describe('epoch', () => {
  it('runs in a zone where Date.parse would shift a time without an offset', () => {
    expect(new Date(2024, 0, 1, 10).toISOString()).toBe('2024-01-01T03:00:00.000Z');
    expect(new Date(Date.parse('2024-01-01T10:00')).toISOString()).toBe('2024-01-01T03:00:00.000Z');
  });

  it('reads a date-time without an offset as UTC, with or without seconds and fractions, T or space', () => {
    for (const text of ['2024-01-01T10:00', '2024-01-01T10:00:00', '2024-01-01T10:00:00.000', '2024-01-01 10:00:00']) {
      expect(new Date(epoch(text) as number).toISOString(), text).toBe('2024-01-01T10:00:00.000Z');
    }
    expect(new Date(epoch('2024-01-01') as number).toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('keeps a stated offset', () => {
    expect(new Date(epoch('2024-01-01T10:00:00Z') as number).toISOString()).toBe('2024-01-01T10:00:00.000Z');
    expect(new Date(epoch('2024-01-01T10:00:00+07:00') as number).toISOString()).toBe('2024-01-01T03:00:00.000Z');
    expect(new Date(epoch('2024-01-01T10:00:00-0500') as number).toISOString()).toBe('2024-01-01T15:00:00.000Z');
    expect(epoch(null)).toBeNull();
  });
});

describe('enrich', () => {
  const enriched = (input: Record<string, unknown>, receivedAt: string) => {
    const parsed = parseMessage({ userId: 'u1', event: 'Signed Up', ...input }, 'track');
    if (!parsed.ok) throw new Error(`fixture must be valid: ${JSON.stringify(parsed.issues)}`);
    const event = enrich({ message: parsed.message, receivedAt: Date.parse(receivedAt), source: 's' });
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      timestamp: iso(event.timestamp),
      originalTimestamp: iso(event.originalTimestamp),
      sentAt: iso(event.sentAt),
    };
  };

  it('stores timestamp, originalTimestamp and sentAt without an offset as UTC', () => {
    expect(enriched({ timestamp: '2024-01-01T10:00' }, '2024-01-01T12:00:00Z')).toEqual({
      timestamp: '2024-01-01T10:00:00.000Z',
      originalTimestamp: '2024-01-01T10:00:00.000Z',
      sentAt: null,
    });
    // Only one side of the skew correction without an offset: read as local time, it would move the event 7 hours.
    expect(
      enriched(
        { originalTimestamp: '2024-01-01T10:00:00.000', sentAt: '2024-01-01T10:00:05Z' },
        '2024-01-01T10:00:06Z',
      ),
    ).toEqual({
      timestamp: '2024-01-01T10:00:01.000Z',
      originalTimestamp: '2024-01-01T10:00:00.000Z',
      sentAt: '2024-01-01T10:00:05.000Z',
    });
    expect(
      enriched({ timestamp: '2024-01-01T17:00:00+07:00', sentAt: '2024-01-01T10:00:05' }, '2024-01-01T10:00:06Z'),
    ).toEqual({
      timestamp: '2024-01-01T10:00:01.000Z',
      originalTimestamp: '2024-01-01T10:00:00.000Z',
      sentAt: '2024-01-01T10:00:05.000Z',
    });
  });
});
