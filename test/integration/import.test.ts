// `cdp import` on both runtimes: a Vietnamese customer spreadsheet with broken rows, an import interrupted twice and
// resumed, and an NDJSON event file; checked through the query API and the events table, against the fixture's own data.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, waitFor } from '@cdp/runtime';
import { contentHashOf, messageIdPrefix, resolveMapping, runImport, type Mapping } from '@cdp/cdp/import';
import { read } from '../harness/http';
import { runtimes, startTestPlatform, type TestPlatform } from '../harness/platform';
import { runCdp, spawnImport } from '../harness/process';

interface Customer {
  userId?: string;
  name: string;
  phoneAsWritten: string;
  phone: string;
  email?: string;
  points: number;
  note?: string;
}

/** The good rows, with the E.164 phone and lower-cased email each should be stored under, written out by hand. */
const customers: Customer[] = [
  {
    userId: 'KH001',
    name: 'Nguyễn Văn An, Jr.',
    phoneAsWritten: '0912 345 678',
    phone: '+84912345678',
    email: 'an.nguyen@example.vn',
    points: 120,
  },
  { userId: 'KH002', name: 'Trần Thị "Bé" Ba', phoneAsWritten: '090.111.2222', phone: '+84901112222', points: 35 },
  {
    name: 'Lê Văn Cường',
    phoneAsWritten: '+84 987 654 321',
    phone: '+84987654321',
    email: 'Cuong.Le@Example.VN',
    points: 5,
  },
  {
    userId: 'KH004',
    name: 'Đỗ Thị Hằng',
    phoneAsWritten: '0977 000 111',
    phone: '+84977000111',
    points: 0,
    note: 'Khách quen\r\nQuận 1, TP.HCM',
  },
  {
    userId: 'KH005',
    name: 'Phạm Quỳnh Hương',
    phoneAsWritten: '0084 388 123 456',
    phone: '+84388123456',
    email: 'huong@example.com',
    points: 990,
  },
];

const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
const rowOf = (customer: Customer) =>
  [
    customer.userId ?? '',
    quote(customer.name),
    customer.phoneAsWritten,
    customer.email ?? '',
    String(customer.points),
    customer.note ? quote(customer.note) : '',
  ].join(',');

/** The spreadsheet: BOM, CRLF, empty lines, and the broken rows each with the line it sits on and what the reason says. */
function spreadsheet(): { text: string; broken: Array<{ line: number; raw: string; reason: RegExp }> } {
  const lines: string[] = ['\ufeffMã KH,Họ tên,Số điện thoại,Email,Điểm,Ghi chú'];
  const broken: Array<{ line: number; raw: string; reason: RegExp }> = [];
  // A note holding a line break makes its row two lines long.
  let line = 1;
  const add = (text: string) => {
    lines.push(text);
    line += 1 + (text.match(/\n/g)?.length ?? 0);
  };
  const bad = (raw: string, reason: RegExp) => {
    broken.push({ line: line + 1, raw, reason });
    add(raw);
  };
  add(rowOf(customers[0] as Customer));
  add('');
  add(rowOf(customers[1] as Customer));
  bad('KH090,"Nguyễn Văn Lỗi,0912000090,,5,', /quote/);
  add(rowOf(customers[2] as Customer));
  bad('KH091,Trần Văn Thừa,0912000091,,5,,cột thừa', /7 fields where the header has 6/);
  add('');
  add(rowOf(customers[3] as Customer));
  bad('KH092,Lý Thị Chữ,0912000092,,mười,', /column "Điểm": "mười" is not a number/);
  bad(',Không Ai,,,7,', /no customer/);
  bad('KH093,Vũ Văn Số,12345,,1,', /phone "12345" is not a phone number of VN/);
  add(rowOf(customers[4] as Customer));
  add('');
  return { text: `${lines.join('\r\n')}\r\n`, broken };
}

const mapping = {
  kind: 'identify',
  country: 'VN',
  columns: {
    'Mã KH': 'userId',
    'Họ tên': 'name',
    'Số điện thoại': 'phone',
    Email: 'email',
    Điểm: { to: 'points', type: 'number' },
    'Ghi chú': 'note',
  },
};

function rejectsOf(file: string): Array<{ line: string; reason: string; row: string }> {
  return parse(readFileSync(file), { columns: true, bom: true }) as Array<{
    line: string;
    reason: string;
    row: string;
  }>;
}

describe.each(runtimes)('cdp import on the %s runtime', (runtime) => {
  let cdp: TestPlatform;
  const dir = mkdtempSync(path.join(os.tmpdir(), `cdp-import-${runtime}-`));
  const profile = (ref: string) => read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey);
  const cli = (args: string[]) =>
    runCdp(['import', ...args, '--url', cdp.url, '--write-key', cdp.writeKey], {}, 120_000);

  /** Rows of the events table whose messageId starts with `prefix`: all copies, and distinct messageIds. */
  async function stored(prefix: string): Promise<{ rows: number; distinct: number }> {
    const result = await cdp.platform.clickhouse.client.query(
      named('test.importedEvents', {
        query:
          'SELECT count() AS rows, uniqExact(message_id) AS distinct FROM events WHERE startsWith(message_id, {prefix:String})',
        query_params: { prefix },
        format: 'JSONEachRow',
      }),
    );
    const [row] = await result.json<{ rows: string | number; distinct: string | number }>();
    return { rows: Number(row?.rows ?? 0), distinct: Number(row?.distinct ?? 0) };
  }

  beforeAll(async () => {
    cdp = await startTestPlatform(runtime);
  }, 180_000);
  afterAll(async () => {
    await cdp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a Vietnamese spreadsheet: each good row one profile with its traits and identifiers, each broken row rejected with its line and reason', async () => {
    const { text, broken } = spreadsheet();
    const file = path.join(dir, 'khach-hang.csv');
    writeFileSync(file, text);
    writeFileSync(path.join(dir, 'mapping.json'), JSON.stringify(mapping));
    const run = await cli([file, '--map', path.join(dir, 'mapping.json')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${customers.length} rows accepted, ${broken.length} rejected`);

    for (const customer of customers) {
      const found = await waitFor(
        async () => {
          const answer = await profile(`phone:${customer.phone}`);
          return answer.status === 200 && (answer.body.stats as { events: number }).events >= 1
            ? answer.body
            : undefined;
        },
        { timeoutMs: 30_000, what: `the profile of ${customer.name}` },
      );
      const email = customer.email?.toLowerCase();
      const traits = {
        name: customer.name,
        phone: customer.phone,
        points: customer.points,
        ...(email ? { email } : {}),
        ...(customer.note ? { note: customer.note } : {}),
      };
      expect(found.traits).toEqual(traits);
      const identities = (found.identities as Array<{ type: string; value: string }>).map(
        ({ type, value }) => `${type}:${value}`,
      );
      const expected = [
        `phone:${customer.phone}`,
        ...(customer.userId ? [`user_id:${customer.userId}`] : []),
        ...(email ? [`email:${email}`] : []),
      ];
      // A row without a userId names its customer by an anonymousId derived from the email (else the phone).
      if (!customer.userId)
        expect(identities.filter((identity) => identity.startsWith('anonymous_id:import-'))).toHaveLength(1);
      expect(identities.filter((identity) => !identity.startsWith('anonymous_id:')).sort()).toEqual(expected.sort());
      expect((found.stats as { events: number }).events).toBe(1);
    }

    const rejects = rejectsOf(`${file}.rejects.csv`);
    expect(rejects.map((reject) => ({ line: Number(reject.line), raw: reject.row }))).toEqual(
      broken.map(({ line, raw }) => ({ line, raw })),
    );
    for (const [index, reject] of rejects.entries())
      expect(reject.reason).toMatch((broken[index] as { reason: RegExp }).reason);
  });

  it('resumes after a clean stop and after a crash, storing every good row once and rejecting every bad row once', async () => {
    const file = path.join(dir, 'many.csv');
    const total = 5000;
    const bad = new Set([17, 404, 1203, 2222, 4999]);
    const lines = ['userId,name,phone,visits'];
    for (let index = 1; index <= total; index += 1) {
      lines.push(
        bad.has(index)
          ? `u${index},Khách ${index},09${String(index).padStart(8, '0')},nhiều`
          : `u${index},Khách hàng ${index},09${String(index).padStart(8, '0')},${index % 7}`,
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const prefix = messageIdPrefix(await contentHashOf(file), 'identify');
    const resolved = resolveMapping(undefined, { country: 'VN', columns: ['visits=visits:number'] }) as {
      mapping: Mapping;
    };
    const statePath = `${file}.import-state.json`;
    const lineSaved = () => (JSON.parse(readFileSync(statePath, 'utf8')) as { line: number }).line;

    // First run: stopped (as Ctrl-C does) once a few batches are acknowledged.
    const stop = new AbortController();
    let acknowledged = 0;
    const first = await runImport({
      file,
      format: 'csv',
      mapping: resolved.mapping,
      url: cdp.url,
      writeKey: cdp.writeKey,
      rejectPath: `${file}.rejects.csv`,
      statePath,
      batchRows: 50,
      concurrency: 2,
      stop: stop.signal,
      onProgress: () => {
        acknowledged += 1;
        if (acknowledged === 6) stop.abort();
      },
    });
    expect(first.status).toBe('stopped');
    expect(first.line).toBeGreaterThan(100);
    expect(first.line).toBeLessThan(total);
    expect(lineSaved()).toBe(first.line);

    // Second run: the command, killed without warning part way.
    const crashed = spawnImport([
      file,
      '--country',
      'VN',
      '--column',
      'visits=visits:number',
      '--batch',
      '10',
      '--concurrency',
      '1',
      '--url',
      cdp.url,
      '--write-key',
      cdp.writeKey,
    ]);
    await waitFor(() => lineSaved() > first.line + 200, {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: 'the second run to get going',
    });
    crashed.child.kill('SIGKILL');
    expect(await crashed.exited).toBe('SIGKILL');
    expect(lineSaved()).toBeLessThan(total + 1);

    const last = await cli([file, '--country', 'VN', '--column', 'visits=visits:number']);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toMatch(/resumed after line \d+/);
    expect(last.stdout).toContain(`${total - bad.size} rows accepted, ${bad.size} rejected in all`);

    await waitFor(async () => (await stored(prefix)).distinct === total - bad.size, {
      timeoutMs: 60_000,
      what: 'every good row stored',
    });
    expect(await stored(prefix)).toEqual({ rows: total - bad.size, distinct: total - bad.size });
    const rejects = rejectsOf(`${file}.rejects.csv`);
    expect(rejects.map((reject) => Number(reject.line))).toEqual([...bad].map((index) => index + 1));
    expect(rejects.every((reject) => reject.reason === 'column "visits": "nhiều" is not a number')).toBe(true);

    // A fourth run finds the file done; a forced one sends it all again and still stores nothing twice.
    expect((await cli([file, '--country', 'VN', '--column', 'visits=visits:number'])).stdout).toContain(
      'was imported completely before',
    );
    const again = await cli([file, '--country', 'VN', '--column', 'visits=visits:number', '--restart']);
    expect(again.code, again.stderr).toBe(0);
    const sample = await waitFor(
      async () => {
        const answer = await profile('user_id:u1500');
        return answer.status === 200 ? answer : undefined;
      },
      { timeoutMs: 30_000, what: 'user_id:u1500 found by its identifier' },
    );
    expect((sample.body.stats as { events: number }).events).toBe(1);
    expect(await stored(prefix)).toEqual({ rows: total - bad.size, distinct: total - bad.size });
    expect(rejectsOf(`${file}.rejects.csv`)).toHaveLength(bad.size);
  }, 240_000);

  it('imports NDJSON events with their own timestamps as tracks', async () => {
    const file = path.join(dir, 'orders.ndjson');
    const orders = [
      { user_id: 'KH001', order: 'DH-1', total: 250000, at: '2025-03-01T09:15:00+07:00' },
      { user_id: 'KH001', order: 'DH-2', total: '120000', at: '2025-03-08T18:40:00+07:00' },
      { user_id: 'KH005', order: 'DH-3', total: 990000, at: '2025-03-09T10:00:00Z' },
    ];
    // Broken: a line that is not JSON, a row naming no customer, and one the API refuses (ingest takes no time before 2000).
    const broken = [
      '{"user_id": "KH001", "total": 1',
      JSON.stringify({ order: 'DH-4', total: 5 }),
      JSON.stringify({ user_id: 'KH005', order: 'DH-0', total: 1, at: '1999-12-31T23:00:00Z' }),
    ];
    const text = [...orders.map((order) => JSON.stringify(order)), ...broken].join('\n');
    writeFileSync(file, text);
    const run = await cli([
      file,
      '--kind',
      'track',
      '--event',
      'Order Completed',
      '--column',
      'order=order_id',
      '--column',
      'total=revenue:number',
      '--column',
      'at=timestamp',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('3 rows accepted, 3 rejected');

    const timeline = await waitFor(
      async () => {
        const answer = await read(cdp.url, '/v1/profiles/user_id:KH001/events', cdp.readKey);
        const events = (answer.body.events ?? []) as Array<{
          event?: string;
          timestamp: string;
          properties: Record<string, unknown>;
        }>;
        const tracked = events.filter((event) => event.event === 'Order Completed');
        return tracked.length === 2 ? tracked : undefined;
      },
      { timeoutMs: 30_000, what: 'the two orders of KH001' },
    );
    expect(timeline.map((event) => [event.timestamp, event.properties])).toEqual([
      ['2025-03-08T11:40:00.000Z', { order_id: 'DH-2', revenue: 120000 }],
      ['2025-03-01T02:15:00.000Z', { order_id: 'DH-1', revenue: 250000 }],
    ]);
    // KH005's order has a partition key of its own: its batch may be written after KH001's.
    const other = await waitFor(
      async () => {
        const answer = await profile('user_id:KH005');
        return (answer.body.stats as { orders?: number } | undefined)?.orders === 1 ? answer : undefined;
      },
      { timeoutMs: 30_000, what: 'the order of KH005' },
    );
    expect(other.body.stats).toMatchObject({ orders: 1, revenue: 990000 });
    const rejects = readFileSync(`${file}.rejects.ndjson`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { line: number; reason: string });
    expect(rejects.map(({ line, reason }) => [line, reason.split(':')[0]])).toEqual([
      [4, 'not JSON'],
      [5, 'no customer'],
      [6, 'refused by the API'],
    ]);
    expect(rejects[2]?.reason).toMatch(/timestamp.*before 2000-01-01/);
  });
});
