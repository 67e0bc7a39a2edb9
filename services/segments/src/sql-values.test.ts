// The value binder without ClickHouse: every value of a rule becomes a typed query parameter, never SQL text.
import { describe, expect, it } from 'vitest';
import { createBinder } from './sql-values';

const now = Date.UTC(2025, 5, 30, 12, 0, 0);
const hostile = "x'); DROP TABLE events; --";

describe('the value binder', () => {
  it('binds the instant of the evaluation as `now` and numbers every other parameter in order', () => {
    const binder = createBinder(now);
    expect(binder.now).toBe("{now:DateTime64(3, 'UTC')}");
    expect(binder.bind('String', 'a')).toBe('{p0:String}');
    expect(binder.bind('Float64', 2)).toBe('{p1:Float64}');
    expect(binder.params).toEqual({ now: '2025-06-30 12:00:00.000', p0: 'a', p1: 2 });
  });

  it('measures a window of days back from now, in ClickHouse time text', () => {
    const binder = createBinder(now);
    expect(binder.since(30)).toBe("{p0:DateTime64(3, 'UTC')}");
    expect(binder.params.p0).toBe('2025-05-31 12:00:00.000');
  });

  it('keeps a string out of the SQL, whatever it holds', () => {
    const binder = createBinder(now);
    const sql = binder.valueTest('raw', { trait: 'plan', equals: hostile });
    expect(sql).not.toContain('DROP');
    expect(sql).toBe("(JSONType(raw) = 'String' AND JSONExtractString(raw) = {p0:String})");
    expect(binder.params.p0).toBe(hostile);
  });

  it('tests an equal value with the JSON type of the value asked for: a string, a number or a boolean', () => {
    const binder = createBinder(now);
    expect(binder.valueTest('raw', { trait: 'vip', equals: 3 })).toBe(
      "(JSONType(raw) IN ('Int64', 'UInt64', 'Double') AND JSONExtractFloat(raw) = {p0:Float64})",
    );
    expect(binder.valueTest('raw', { trait: 'vip', equals: true })).toBe(
      "(JSONType(raw) = 'Bool' AND JSONExtractBool(raw) = {p1:UInt8})",
    );
    expect(binder.params).toMatchObject({ p0: 3, p1: 1 });
  });

  it('splits a list of values by type, one array parameter for each type present', () => {
    const binder = createBinder(now);
    const sql = binder.valueTest('raw', { trait: 'tier', in: ['gold', 2, false, 'silver'] });
    expect(sql).toContain('JSONExtractString(raw) IN {p0:Array(String)}');
    expect(sql).toContain('JSONExtractFloat(raw) IN {p1:Array(Float64)}');
    expect(sql).toContain('JSONExtractBool(raw) IN {p2:Array(UInt8)}');
    expect(binder.params).toMatchObject({ p0: ['gold', 'silver'], p1: [2], p2: [0] });
    expect(createBinder(now).valueTest('raw', { trait: 'tier', in: ['gold'] })).not.toContain('Float64');
  });

  it('reads absent and null alike for exists', () => {
    const binder = createBinder(now);
    expect(binder.valueTest('raw', { trait: 'email', exists: true })).toBe("(JSONType(raw) != 'Null')");
    expect(binder.valueTest('raw', { trait: 'email', exists: false })).toBe("(JSONType(raw) = 'Null')");
    expect(Object.keys(binder.params)).toEqual(['now']);
  });

  it('compares numbers with the operator named, and dates as instants a date text must parse to', () => {
    const binder = createBinder(now);
    expect(binder.valueTest('raw', { trait: 'age', gte: 18 })).toContain('JSONExtractFloat(raw) >= {p0:Float64}');
    expect(binder.valueTest('raw', { trait: 'age', lt: 65 })).toContain('JSONExtractFloat(raw) < {p1:Float64}');
    const before = binder.valueTest('raw', { trait: 'birthday', before: '2000-01-01' });
    expect(before).toContain(
      "parseDateTime64BestEffortOrNull(JSONExtractString(raw), 3, 'UTC') < {p2:DateTime64(3, 'UTC')}",
    );
    expect(before).toMatch(/^\(JSONType\(raw\) = 'String' AND ifNull\(/);
    expect(binder.params.p2).toBe('2000-01-01 00:00:00.000');
    expect(binder.valueTest('raw', { trait: 'signup', withinLastDays: 7 })).toContain(">= {p3:DateTime64(3, 'UTC')}");
    expect(binder.params.p3).toBe('2025-06-23 12:00:00.000');
  });

  it('finds a text inside a string without pattern syntax', () => {
    const binder = createBinder(now);
    expect(binder.valueTest('raw', { trait: 'city', contains: '%_Hà Nội' })).toBe(
      "(JSONType(raw) = 'String' AND position(JSONExtractString(raw), {p0:String}) > 0)",
    );
    expect(binder.params.p0).toBe('%_Hà Nội');
  });
});
