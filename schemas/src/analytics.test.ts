// Analytics query parameters: windows read in the zone asked, defaults, and every mistake named by its parameter.
import { describe, expect, it } from 'vitest';
import { kpisQuery, lifecycleQuery, periodsCovering, retentionQuery } from './analytics';
import { zonedInstant } from './zoned-time';

const wall = (text: string) => {
  const [date, time] = text.split('T') as [string, string];
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  return { year, month, day, hour, minute, second: 0, millisecond: 0 };
};

describe('zonedInstant', () => {
  it('reads a wall-clock time on the clocks of the zone', () => {
    expect(new Date(zonedInstant(wall('2025-03-01T00:00'), 'Asia/Ho_Chi_Minh')).toISOString()).toBe(
      '2025-02-28T17:00:00.000Z',
    );
    expect(new Date(zonedInstant(wall('2025-07-01T00:00'), 'America/New_York')).toISOString()).toBe(
      '2025-07-01T04:00:00.000Z',
    );
    expect(new Date(zonedInstant(wall('2025-01-01T00:00'), 'UTC')).toISOString()).toBe('2025-01-01T00:00:00.000Z');
  });

  it('takes the first of a time shown twice and moves a skipped time past the gap', () => {
    // Paris: clocks go back from 03:00 to 02:00 on 2025-10-26 and forward from 02:00 to 03:00 on 2025-03-30.
    expect(new Date(zonedInstant(wall('2025-10-26T02:30'), 'Europe/Paris')).toISOString()).toBe(
      '2025-10-26T00:30:00.000Z',
    );
    expect(new Date(zonedInstant(wall('2025-03-30T02:30'), 'Europe/Paris')).toISOString()).toBe(
      '2025-03-30T01:30:00.000Z',
    );
    expect(new Date(zonedInstant(wall('2025-03-30T00:00'), 'Europe/Paris')).toISOString()).toBe(
      '2025-03-29T23:00:00.000Z',
    );
  });
});

describe('analytics query parameters', () => {
  it('reads dates and date-times in tz, and a stated offset as it is', () => {
    const parsed = kpisQuery.parse({ from: '2025-03-01', to: '2025-03-02T06:30:15.5', tz: 'Asia/Ho_Chi_Minh' });
    expect([parsed.fromMs, parsed.toMs]).toEqual([
      Date.parse('2025-02-28T17:00:00Z'),
      Date.parse('2025-03-01T23:30:15.500Z'),
    ]);
    const offset = kpisQuery.parse({
      from: '2025-03-01T00:00:00+07:00',
      to: '2025-03-01T12:00Z',
      tz: 'America/New_York',
    });
    expect([offset.fromMs, offset.toMs]).toEqual([
      Date.parse('2025-02-28T17:00:00Z'),
      Date.parse('2025-03-01T12:00:00Z'),
    ]);
  });

  it('fills in defaults', () => {
    expect(retentionQuery.parse({ from: '2025-01-01', to: '2025-02-01' })).toMatchObject({
      tz: 'UTC',
      cohort: 'first_seen',
      period: 'week',
      periods: 8,
    });
    expect(lifecycleQuery.parse({ from: '2025-01-01', to: '2025-02-01' })).toMatchObject({ tz: 'UTC', period: 'week' });
  });

  it('names the parameter of each mistake', () => {
    const pathsOf = (query: Record<string, unknown>) =>
      retentionQuery.safeParse(query).error?.issues.map((issue) => issue.path.join('.'));
    const window = { from: '2025-01-01', to: '2025-02-01' };
    expect(pathsOf({ ...window, tz: 'Nowhere/Special' })).toEqual(['tz']);
    expect(pathsOf({ ...window, from: '2025-02-29' })).toEqual(['from']);
    expect(pathsOf({ ...window, from: '1999-12-31' })).toEqual(['from']);
    expect(pathsOf({ ...window, to: '2025-01-01' })).toEqual(['to']);
    expect(pathsOf({ ...window, cohort: 'first_visit', period: 'hour', periods: '61' })).toEqual([
      'cohort',
      'period',
      'periods',
    ]);
    expect(pathsOf({ ...window, periods: '2.5' })).toEqual(['periods']);
    expect(pathsOf({ ...window, segment: '', channel: 'fax' })).toEqual(['segment', 'channel']);
    expect(pathsOf({ from: '2000-01-01', to: '2100-01-01', period: 'day' })).toEqual(['to']);
  });

  it('generates enough candidate periods for any window', () => {
    const year = { fromMs: Date.parse('2025-01-01T00:00:00Z'), toMs: Date.parse('2026-01-01T00:00:00Z') };
    expect(periodsCovering(year, 'day')).toBeGreaterThanOrEqual(366);
    expect(periodsCovering(year, 'week')).toBeGreaterThanOrEqual(54);
    expect(periodsCovering(year, 'month')).toBeGreaterThanOrEqual(13);
  });
});
