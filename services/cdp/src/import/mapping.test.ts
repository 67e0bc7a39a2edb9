// The import mapping: what a file and flags may say, every problem named up front, and rows turned into messages.
import { describe, expect, it } from 'vitest';
import { resolveMapping, type Mapping, type MappingFlags } from './mapping';
import { anonymousIdOf, rowMapper } from './message';
import { convert, isoDateOf } from './values';

function mappingOf(file: unknown, flags: MappingFlags = {}): Mapping {
  const resolved = resolveMapping(file, flags);
  if ('problems' in resolved) throw new Error(resolved.problems.join('; '));
  return resolved.mapping;
}

const problemsOf = (file: unknown, flags: MappingFlags = {}) => {
  const resolved = resolveMapping(file, flags);
  return 'problems' in resolved ? resolved.problems : [];
};

describe('resolveMapping', () => {
  it('reads a mapping file, and lets --column flags override and add to it', () => {
    const mapping = mappingOf(
      {
        kind: 'identify',
        country: 'vn',
        columns: { 'Mã KH': 'userId', Điểm: { to: 'points', type: 'number' }, 'Ghi chú': null },
      },
      { columns: ['Số điện thoại=phone', 'Điểm=loyalty_points:number', 'Sinh nhật=birthday:date', 'Nội bộ='] },
    );
    expect(mapping.kind).toBe('identify');
    expect(mapping.country).toBe('VN');
    expect(Object.fromEntries(mapping.columns)).toEqual({
      'Mã KH': { to: 'userId', type: null },
      Điểm: { to: 'loyalty_points', type: 'number' },
      'Ghi chú': { to: null, type: null },
      'Số điện thoại': { to: 'phone', type: null },
      'Sinh nhật': { to: 'birthday', type: 'date' },
      'Nội bộ': { to: null, type: null },
    });
  });

  it('keeps a column name holding "=" or ":" whole, and takes a type only when it names one', () => {
    const mapping = mappingOf(undefined, { columns: ['a=b=score:number', 'time=at:12'] });
    expect(mapping.columns.get('a=b')).toEqual({ to: 'score', type: 'number' });
    expect(mapping.columns.get('time')).toEqual({ to: 'at:12', type: null });
  });

  it('names every problem at once: unknown keys, bad types, kinds and countries, clashing identifiers, flags without "="', () => {
    const problems = problemsOf(
      { kind: 'identify', columns: { a: 'userId', b: 'userId', c: { to: 'x', type: 'money' } }, extra: true },
      {},
    );
    expect(problems.join('\n')).toMatch(/extra/);
    expect(problems.join('\n')).toMatch(/columns\.c\.type/);
    expect(problemsOf({ columns: { a: 'userId', b: 'userId' } })).toEqual([
      'columns "a" and "b" all map to userId: pick one',
    ]);
    expect(problemsOf(undefined, { kind: 'page', country: 'Vietnam', columns: ['phone'] })).toEqual([
      '--column phone: write it SOURCE=DESTINATION[:TYPE], e.g. "Số điện thoại=phone" or "Điểm=points:number"',
      'kind page: must be identify or track',
      '--country Vietnam: must be a two-letter country code such as VN',
    ]);
    expect(problemsOf(undefined, { columns: ['x=__proto__'] })).toEqual([expect.stringMatching(/__proto__/)]);
    expect(problemsOf(undefined, { columns: ['when=timestamp:number'] })).toEqual([
      'column "when": timestamp is a date, it cannot be read as number',
    ]);
  });

  it('asks a track import for an event name, and an identify for none', () => {
    expect(problemsOf(undefined, { kind: 'track' })).toEqual([expect.stringMatching(/needs an event name/)]);
    expect(problemsOf(undefined, { kind: 'track', event: 'Order Completed' })).toEqual([]);
    expect(problemsOf(undefined, { kind: 'track', columns: ['Loại=event'] })).toEqual([]);
    expect(problemsOf(undefined, { event: 'Store Visit' })).toEqual(['an event name applies to --kind track only']);
  });
});

const rowOf = (cells: Record<string, unknown>): [string[], unknown[]] => [Object.keys(cells), Object.values(cells)];

describe('rowMapper', () => {
  const customers = rowMapper(
    mappingOf({
      country: 'VN',
      columns: {
        'Mã KH': 'userId',
        'Họ tên': 'name',
        SĐT: 'phone',
        Thư: 'email',
        Điểm: { to: 'points', type: 'number' },
        VIP: { type: 'boolean' },
      },
    }),
  );

  it('makes an identify with email and phone as traits, the phone in E.164 by the default country, the rest typed', () => {
    const result = customers(
      ...rowOf({
        'Mã KH': 'KH001',
        'Họ tên': ' Nguyễn Văn An ',
        SĐT: '0912 345 678',
        Thư: 'An@Example.com',
        Điểm: '1200',
        VIP: 'có',
        'Ghi chú': '',
      }),
      'm-1',
    );
    expect(result).toEqual({
      message: {
        type: 'identify',
        messageId: 'm-1',
        userId: 'KH001',
        traits: { name: 'Nguyễn Văn An', points: 1200, VIP: true, email: 'an@example.com', phone: '+84912345678' },
      },
    });
  });

  it('gives a row named by phone or email only an anonymousId derived from it, the same for every row of that customer', () => {
    const first = customers(...rowOf({ SĐT: '0912345678' }), 'm-1');
    const second = customers(...rowOf({ SĐT: '+84 912 345 678', 'Họ tên': 'An' }), 'm-2');
    expect(first).toMatchObject({ message: { anonymousId: anonymousIdOf('phone', '+84912345678') } });
    expect(second).toMatchObject({ message: { anonymousId: anonymousIdOf('phone', '+84912345678') } });
    expect(customers(...rowOf({ Thư: 'a@b.vn', SĐT: '0912345678' }), 'm-3')).toMatchObject({
      message: { anonymousId: anonymousIdOf('email', 'a@b.vn') },
    });
  });

  it('refuses a row without a customer, with a bad identifier, or with a value not of its type, naming the column', () => {
    expect(customers(...rowOf({ 'Họ tên': 'Không Ai' }), 'm')).toEqual({
      reason: 'no customer: the row has no userId, anonymousId, email or phone',
    });
    expect(customers(...rowOf({ 'Mã KH': 'K1', Điểm: '12 điểm' }), 'm')).toEqual({
      reason: 'column "Điểm": "12 điểm" is not a number',
    });
    expect(customers(...rowOf({ 'Mã KH': 'K1', VIP: 'maybe' }), 'm')).toEqual({
      reason: expect.stringMatching(/^column "VIP": "maybe" is not a yes\/no value/),
    });
    expect(customers(...rowOf({ 'Mã KH': 'K1', SĐT: '12' }), 'm')).toEqual({
      reason: 'phone "12" is not a phone number of VN or one with its country code',
    });
    expect(customers(...rowOf({ 'Mã KH': 'K1', Thư: 'không có' }), 'm')).toEqual({
      reason: 'email "không có" is not an email address',
    });
  });

  it('makes a track with the event from a column or the fixed name, email and phone in context.traits, and the time', () => {
    const orders = rowMapper(
      mappingOf({
        kind: 'track',
        event: 'Order Completed',
        columns: { Tổng: { to: 'revenue', type: 'number' }, Ngày: 'timestamp' },
      }),
    );
    expect(
      orders(
        ...rowOf({ user_id: 'u1', email: 'a@b.vn', Tổng: '250000', Ngày: '31/12/2024 08:30', 'Cửa hàng': 'Quận 1' }),
        'm-9',
      ),
    ).toEqual({
      message: {
        type: 'track',
        messageId: 'm-9',
        userId: 'u1',
        timestamp: '2024-12-31T08:30:00',
        event: 'Order Completed',
        properties: { revenue: 250000, 'Cửa hàng': 'Quận 1' },
        context: { traits: { email: 'a@b.vn' } },
      },
    });
    const named = rowMapper(mappingOf({ kind: 'track', columns: { Loại: 'event' } }));
    expect(named(...rowOf({ userId: 'u1', Loại: 'Store Visit' }), 'm')).toMatchObject({
      message: { event: 'Store Visit' },
    });
    expect(named(...rowOf({ userId: 'u1', Loại: '' }), 'm')).toEqual({
      reason: expect.stringMatching(/^no event name/),
    });
    expect(orders(...rowOf({ userId: 'u1', Ngày: '31/02/2024' }), 'm')).toEqual({
      reason: 'timestamp "31/02/2024" is not a date or date-time',
    });
  });

  it('reads NDJSON values as they are, converting only where a type is declared, and drops unmapped columns when asked', () => {
    const events = rowMapper(
      mappingOf(
        { kind: 'track', unmapped: 'drop', columns: { total: { type: 'number' }, paid: { type: 'boolean' } } },
        { event: 'Order Completed' },
      ),
    );
    expect(events(...rowOf({ userId: 42, total: 10.5, paid: true, note: 'left out' }), 'm')).toEqual({
      message: {
        type: 'track',
        messageId: 'm',
        userId: '42',
        event: 'Order Completed',
        properties: { total: 10.5, paid: true },
      },
    });
  });

  it('lets an explicit identifier column win over a column that only happens to be named like one', () => {
    const mapper = rowMapper(mappingOf({ columns: { 'Mã KH': 'userId' } }));
    expect(mapper(...rowOf({ 'Mã KH': 'KH9', user_id: 'legacy-9' }), 'm')).toMatchObject({
      message: { userId: 'KH9', traits: { user_id: 'legacy-9' } },
    });
  });
});

describe('values', () => {
  it('reads dates as ISO-8601 or day first, and refuses days that do not exist', () => {
    expect(isoDateOf('2024-12-31')).toBe('2024-12-31');
    expect(isoDateOf('2024-12-31T08:30:00+07:00')).toBe('2024-12-31T08:30:00+07:00');
    expect(isoDateOf('5/1/2024')).toBe('2024-01-05');
    expect(isoDateOf('29/02/2023')).toBeNull();
    expect(isoDateOf('12/31/2024')).toBeNull();
  });
  it('reads numbers written plainly, and nothing else', () => {
    expect(convert(' -12.5 ', 'number')).toEqual({ value: -12.5 });
    expect(convert('1e3', 'number')).toEqual({ value: 1000 });
    for (const text of ['1.500.000', '12a', '', 'NaN']) expect(convert(text, 'number')).toHaveProperty('problem');
  });
});
