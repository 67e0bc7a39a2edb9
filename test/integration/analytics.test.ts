// The analytics API answers exactly what a plain recomputation from the generated history gives, in UTC and UTC+7,
// with and without segment and channel filters; boundaries, merges and empty windows; and 400s for bad parameters.
import { messagesPerSurvivor } from '@cdp/profiles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, toClickHouseTime, waitFor } from '@cdp/runtime';
import { generateHistory } from '../generators/history';
import {
  kpiSeries,
  kpis,
  lifecycle,
  repeatPurchase,
  retention,
  truthMessages,
  type Window,
} from '../reference/analytics';
import { openTickets, surveys, ticketSeries } from '../reference/care';
import { differences } from '../reference/differences';
import type { Period } from '../reference/calendar';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';
import { counterOf, read, send } from '../harness/http';

const history = generateHistory({ customers: 150, seed: 11, prefix: uniqueName('an') });
const truth = truthMessages(history);
const segmentId = uniqueName('seg');
// Members: every third customer; the latest membership row decides, so a few join late and a few have left.
const members = new Set(history.customers.map((_, index) => index).filter((index) => index % 3 === 0));
const leavers = history.customers.map((_, index) => index).filter((index) => index % 3 === 1 && index % 5 === 0);
const specialSegments = { boundary: uniqueName('seg'), lateMerge: uniqueName('seg'), earlyBuyer: uniqueName('seg') };

describe('the analytics API on the embedded runtime', () => {
  let cdp: TestPlatform;
  const profileOf = new Map<number, string>();

  const ask = async (path: string, query: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams(
      Object.entries(query)
        .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
        .map(([key, value]): [string, string] => [key, String(value)]),
    );
    const response = await read(cdp.url, `/v1/analytics/${path}?${search}`, cdp.readKey);
    expect(response.status, `${path}?${search}: ${JSON.stringify(response.body)}`).toBe(200);
    return response.body;
  };

  async function joinSegment(
    segment: string,
    rows: Array<{ customer: number; isMember: number; version: number }>,
  ): Promise<void> {
    const at = toClickHouseTime(Date.parse('2025-06-30T00:00:00.000Z'));
    await cdp.platform.clickhouse.client.insert(
      named('test.insertMembership', {
        table: 'segment_membership',
        format: 'JSONEachRow',
        values: rows.map((row) => ({
          segment_id: segment,
          profile_id: profileOf.get(row.customer),
          is_member: row.isMember,
          entered_at: at,
          changed_at: at,
          version: row.version,
        })),
      }),
    );
  }

  beforeAll(async () => {
    cdp = await startTestPlatform('embedded');
    for (let offset = 0; offset < history.messages.length; offset += 250) {
      const response = await send(
        cdp.url,
        '/v1/batch',
        { batch: history.messages.slice(offset, offset + 250) },
        { writeKey: cdp.writeKey },
      );
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    }
    // Done when every distinct message is resolved and every customer's identifiers have merged into one profile.
    await waitFor(
      async () => {
        const result = await cdp.platform.clickhouse.client.query(
          named('test.countMessagesPerSurvivor', {
            query: `SELECT sum(messages) AS messages, count() AS profiles FROM (${messagesPerSurvivor('SELECT message_id, profile_id, inserted_at FROM events', '', 'count() AS messages')})`,
            format: 'JSONEachRow',
          }),
        );
        const [row] = await result.json<{ messages: number; profiles: number }>();
        return Number(row?.messages) === history.distinctMessages && Number(row?.profiles) === history.customers.length;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        what: `${history.distinctMessages} messages on ${history.customers.length} profiles`,
      },
    );
    // A batch writes its identities after its events and merges: a customer first seen in the last one may take a
    // moment to be found by its identifier.
    for (const [index, customer] of history.customers.entries()) {
      const profileId = await waitFor(
        async () => {
          const response = await read(cdp.url, `/v1/profiles/${encodeURIComponent(customer.ref)}`, cdp.readKey);
          return response.status === 200 ? (response.body.profileId as string) : undefined;
        },
        { timeoutMs: 30_000, what: `${customer.ref} found by its identifier` },
      );
      profileOf.set(index, profileId);
    }
    await joinSegment(segmentId, [
      ...[...members].map((customer) => ({ customer, isMember: 1, version: 1 })),
      ...[...members]
        .filter((customer) => customer % 4 === 0)
        .flatMap((customer) => [{ customer, isMember: 0, version: 0 }]),
      ...leavers.flatMap((customer) => [
        { customer, isMember: 1, version: 1 },
        { customer, isMember: 0, version: 2 },
      ]),
    ]);
    for (const [name, segment] of Object.entries(specialSegments)) {
      await joinSegment(segment, [
        { customer: history.special[name as keyof typeof specialSegments], isMember: 1, version: 1 },
      ]);
    }
  }, 180_000);
  afterAll(async () => {
    await cdp?.close();
  });

  const windows = [
    { from: '2025-02-01', to: '2025-05-01' },
    { from: '2025-03-01', to: '2025-04-01' },
    { from: '2025-03-10T12:00', to: '2025-03-24T06:30:15.5' },
    { from: '2024-12-30', to: '2025-07-07' },
  ];
  const filters: Array<{ segment?: boolean; channel?: string }> = [
    {},
    { segment: true },
    { channel: 'web' },
    { segment: true, channel: 'email' },
  ];
  const periods: Period[] = ['week', 'day', 'month'];
  const cases = ['UTC', 'Asia/Ho_Chi_Minh'].flatMap((tz) =>
    windows.flatMap((window) => filters.map((filter) => ({ tz, ...window, ...filter }))),
  );

  it.each(
    cases.map(
      (scope, index) =>
        [
          `${scope.tz} ${scope.from} → ${scope.to}${scope.segment ? ' segment' : ''}${scope.channel ? ` ${scope.channel}` : ''}`,
          scope,
          index,
        ] as const,
    ),
  )('answers like the reference: %s', async (_name, scope, index) => {
    const window: Window = {
      from: scope.from,
      to: scope.to,
      tz: scope.tz,
      ...(scope.segment ? { segment: members } : {}),
      ...(scope.channel ? { channel: scope.channel } : {}),
    };
    const query = {
      from: scope.from,
      to: scope.to,
      tz: scope.tz,
      segment: scope.segment ? segmentId : undefined,
      channel: scope.channel,
    };
    const period = periods[index % 3] as Period;
    const cohort = index % 2 === 0 ? 'first_purchase' : 'first_seen';
    const periodCount = [1, 6, 12][index % 3] as number;
    expect(differences(await ask('kpis', query), kpis(truth, window))).toEqual([]);
    expect(differences(await ask('repeat-purchase', query), repeatPurchase(truth, window))).toEqual([]);
    expect(differences(await ask('lifecycle', { ...query, period }), lifecycle(truth, { ...window, period }))).toEqual(
      [],
    );
    const retentionQuery = { ...query, cohort, period: periods[(index + 1) % 3], periods: periodCount };
    const expected = retention(truth, {
      ...window,
      cohort,
      period: periods[(index + 1) % 3] as Period,
      periods: periodCount,
    });
    expect(differences(await ask('retention', retentionQuery), expected)).toEqual([]);
    const seriesPeriod = periods[(index + 2) % 3] as Period;
    expect(
      differences(
        await ask('kpis/series', { ...query, period: seriesPeriod }),
        kpiSeries(truth, { ...window, period: seriesPeriod }),
      ),
    ).toEqual([]);
    expect(differences(await ask('tickets', { ...query, period }), ticketSeries(truth, { ...window, period }))).toEqual(
      [],
    );
    expect(differences(await ask('surveys', query), surveys(truth, window))).toEqual([]);
  });

  // Retention holds a profile's active periods as bits when the window's periods fit in 64, 128 or 256 of them, as a
  // set of days past that: one window of each, for both kinds of cohort.
  it.each([
    ['week', '2025-02-01', '2025-05-01', 12],
    ['day', '2025-01-06', '2025-03-20', 40],
    ['day', '2025-01-06', '2025-07-01', 30],
    ['day', '2024-10-01', '2025-07-07', 20],
  ] as const)('counts retention by %s from %s to %s like the reference', async (period, from, to, periods) => {
    for (const cohort of ['first_seen', 'first_purchase'] as const)
      for (const channel of [undefined, 'web']) {
        const tz = 'Asia/Ho_Chi_Minh';
        const query = { from, to, tz, cohort, period, periods, channel };
        const expected = retention(truth, { from, to, tz, cohort, period, periods, ...(channel ? { channel } : {}) });
        const answer = await ask('retention', query);
        expect(differences(answer, expected)).toEqual([]);
        expect((answer.cohorts as Array<{ size: number }>).some((row) => row.size > 0)).toBe(true);
      }
  });

  it.each([{}, { segment: true }, { channel: 'chat' }, { channel: 'email', segment: true }])(
    'lists the tickets open now like the reference: %j',
    async (filter) => {
      const byOpening = (a: { openedAt: string; ticketId: string }, b: { openedAt: string; ticketId: string }) =>
        a.openedAt.localeCompare(b.openedAt) || a.ticketId.localeCompare(b.ticketId);
      for (const slaHours of [24, 0.5]) {
        const now = Date.now();
        const answer = await ask('open-tickets', {
          slaHours,
          limit: 500,
          segment: filter.segment ? segmentId : undefined,
          channel: filter.channel,
        });
        const expected = openTickets(
          truth,
          { ...(filter.segment ? { segment: members } : {}), ...(filter.channel ? { channel: filter.channel } : {}) },
          { slaHours, limit: 500, now, profileOf: (customer) => profileOf.get(customer) as string },
        );
        const listed = (answer.tickets as Array<{ ageHours: number; openedAt: string; ticketId: string }>).map(
          ({ ageHours, ...ticket }) => {
            // Its age is the API's now minus the opening: within the seconds this request took of the test's now.
            expect(Math.abs(ageHours - (now - Date.parse(ticket.openedAt)) / 3_600_000)).toBeLessThan(0.01);
            return ticket;
          },
        );
        expect(
          differences(
            { ...answer, tickets: listed.sort(byOpening) },
            { ...expected, tickets: expected.tickets.sort(byOpening) },
          ),
        ).toEqual([]);
      }
      const oldest = await ask('open-tickets', { limit: 2 });
      expect((oldest.tickets as unknown[]).length).toBe(Math.min(2, oldest.total as number));
    },
  );

  it('counts an event exactly at from and none exactly at to, at midnight of the zone asked', async () => {
    const segment = specialSegments.boundary;
    const march = { from: '2025-03-01', to: '2025-04-01', segment };
    expect((await ask('kpis', { ...march, tz: 'Asia/Ho_Chi_Minh' })).totals).toMatchObject({ orders: 2, revenue: 11 });
    expect((await ask('kpis', march)).totals).toMatchObject({ orders: 2, revenue: 110 });
    expect(
      (await ask('kpis', { ...march, from: '2025-03-01T00:00:00+07:00', to: '2025-04-01T00:00+07:00' })).totals,
    ).toMatchObject({ orders: 2, revenue: 11 });
    const months = {
      from: '2025-02-01',
      to: '2025-05-01',
      segment,
      cohort: 'first_purchase',
      period: 'month',
      periods: 3,
    };
    const empty = (cohort: string) => ({ cohort, size: 0, retained: [0, 0, 0] });
    expect(await ask('retention', { ...months, tz: 'Asia/Ho_Chi_Minh' })).toEqual({
      cohorts: [empty('2025-02-01'), { cohort: '2025-03-01', size: 1, retained: [1, 1, 0] }, empty('2025-04-01')],
    });
    expect(await ask('retention', months)).toEqual({
      cohorts: [{ cohort: '2025-02-01', size: 1, retained: [1, 1, 1] }, empty('2025-03-01'), empty('2025-04-01')],
    });
  });

  it('keeps a profile merged after its first purchase in the cohort of that purchase', async () => {
    const query = { from: '2025-01-01', to: '2025-04-01', segment: specialSegments.lateMerge };
    const answer = await ask('retention', { ...query, cohort: 'first_purchase', period: 'week', periods: 10 });
    const cohorts = answer.cohorts as Array<{ size: number }>;
    expect(cohorts.filter((cohort) => cohort.size > 0)).toEqual([
      { cohort: '2025-01-06', size: 1, retained: [1, 0, 0, 0, 0, 1, 0, 0, 1, 0] },
    ]);
    expect((await ask('kpis', query)).totals).toMatchObject({
      activeCustomers: 1,
      newCustomers: 1,
      orders: 3,
      revenue: 90,
    });
  });

  it('leaves out a cohort whose first purchase is before the window', async () => {
    const query = { from: '2025-03-01', to: '2025-06-01', segment: specialSegments.earlyBuyer };
    const cohorts = { cohort: 'first_purchase', period: 'month', periods: 3 };
    const empty = (cohort: string) => ({ cohort, size: 0, retained: [0, 0, 0] });
    expect(await ask('retention', { ...query, ...cohorts })).toEqual({
      cohorts: [empty('2025-03-01'), empty('2025-04-01'), empty('2025-05-01')],
    });
    expect(await ask('repeat-purchase', query)).toMatchObject({
      customers: 1,
      repeatCustomers: 1,
      medianDaysToSecondPurchase: 17,
    });
    const wider = await ask('retention', { ...query, ...cohorts, from: '2025-01-01' });
    expect((wider.cohorts as unknown[])[0]).toEqual({ cohort: '2025-01-01', size: 1, retained: [1, 0, 1] });
  });

  it('answers a window without data with zeros and nulls', async () => {
    const query = { from: '2030-01-01', to: '2030-02-01', tz: 'Asia/Ho_Chi_Minh' };
    const none = {
      activeCustomers: 0,
      newCustomers: 0,
      orders: 0,
      revenue: 0,
      aov: null,
      purchaseFrequency: null,
      churnRate: null,
      nps: null,
      npsResponses: 0,
    };
    const noCare = {
      csat: null,
      csatResponses: 0,
      tickets: 0,
      complaints: 0,
      medianFirstResponseMinutes: null,
      medianResolutionHours: null,
    };
    expect(await ask('kpis', query)).toEqual({ totals: { ...none, ...noCare }, byChannel: [] });
    expect(await ask('repeat-purchase', query)).toEqual({
      customers: 0,
      repeatCustomers: 0,
      orders: 0,
      repeatRate: null,
      ordersPerCustomer: null,
      distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5+': 0 },
      medianDaysToSecondPurchase: null,
      medianDaysBetweenPurchases: null,
    });
    expect(await ask('retention', { ...query, period: 'month', periods: 2 })).toEqual({
      cohorts: [{ cohort: '2030-01-01', size: 0, retained: [0, 0] }],
    });
    expect(await ask('lifecycle', { ...query, period: 'month' })).toEqual({
      periods: [{ period: '2030-01-01', new: 0, returning: 0, resurrecting: 0, dormant: 0 }],
    });
    expect(
      (await ask('kpis', { from: '2025-01-01', to: '2025-07-01', segment: 'no-such-segment' })).totals,
    ).toMatchObject({ activeCustomers: 0, orders: 0 });
  });

  it('answers the widest windows allowed', async () => {
    expect((await ask('kpis', { from: '2000-01-01', to: '2100-12-31T23:59' })).totals).toMatchObject({
      activeCustomers: history.customers.length,
      churnRate: null,
    });
    const months = (await ask('retention', { from: '2000-01-01', to: '2080-01-01', period: 'month', periods: 1 }))
      .cohorts as Array<{ size: number }>;
    expect(months).toHaveLength(960);
    expect(months.reduce((sum, cohort) => sum + cohort.size, 0)).toBe(history.customers.length);
  });

  const window = { from: '2025-03-01', to: '2025-04-01' };
  it.each([
    ['kpis', { ...window, tz: 'Mars/Olympus' }, 'tz'],
    ['kpis', { ...window, tz: 'utc' }, 'tz'],
    ['kpis', { from: '2025-03-01', to: '2025-03-01' }, 'to'],
    ['repeat-purchase', { from: '2025-03-02', to: '2025-03-01T23:00' }, 'to'],
    ['kpis', { ...window, from: '2025-02-30' }, 'from'],
    ['kpis', { ...window, from: 'yesterday' }, 'from'],
    ['kpis', { from: '2025-03-01' }, 'to'],
    ['kpis', { ...window, channel: 'fax' }, 'channel'],
    ['kpis', { ...window, segment: '' }, 'segment'],
    ['retention', { ...window, cohort: 'first_order' }, 'cohort'],
    ['retention', { ...window, period: 'year' }, 'period'],
    ['retention', { ...window, periods: 0 }, 'periods'],
    ['retention', { ...window, periods: 61 }, 'periods'],
    ['retention', { ...window, periods: 'many' }, 'periods'],
    ['lifecycle', { ...window, period: 'hour' }, 'period'],
    ['lifecycle', { from: '2000-01-01', to: '2100-01-01', period: 'day' }, 'to'],
    ['kpis/series', { ...window, period: 'year' }, 'period'],
    ['kpis/series', { from: '2000-01-01', to: '2100-01-01', period: 'day' }, 'to'],
    ['tickets', { ...window, tz: 'utc' }, 'tz'],
    ['surveys', { ...window, channel: 'fax' }, 'channel'],
    ['open-tickets', { slaHours: 0 }, 'slaHours'],
    ['open-tickets', { slaHours: 'soon' }, 'slaHours'],
    ['open-tickets', { limit: 501 }, 'limit'],
  ] as const)('answers GET %s with %j by a 400 naming %s', async (path, query, parameter) => {
    const search = new URLSearchParams(
      Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
    );
    const response = await read(cdp.url, `/v1/analytics/${path}?${search}`, cdp.readKey);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('INVALID_REQUEST');
    expect(response.body.message).toContain(parameter);
    expect((response.body.errors as Array<{ path: string }>).map((error) => error.path)).toContain(parameter);
  });

  it('asks for a read key', async () => {
    for (const path of [
      'kpis',
      'kpis/series',
      'retention',
      'repeat-purchase',
      'lifecycle',
      'tickets',
      'surveys',
      'open-tickets',
    ]) {
      const missing = await read(cdp.url, `/v1/analytics/${path}?from=2025-03-01&to=2025-04-01`);
      expect([missing.status, missing.body.code]).toEqual([401, 'MISSING_READ_KEY']);
      const unknown = await read(cdp.url, `/v1/analytics/${path}?from=2025-03-01&to=2025-04-01`, 'rk_nobody');
      expect([unknown.status, unknown.body.code]).toEqual([401, 'UNKNOWN_READ_KEY']);
    }
  });

  it('has data that exercises every metric', () => {
    const totals = kpis(truth, { from: '2025-01-01', to: '2025-07-01', tz: 'UTC' }).totals;
    expect(totals.tickets).toBeGreaterThan(50);
    expect(totals.complaints).toBeGreaterThan(10);
    expect(totals.npsResponses).toBeGreaterThan(20);
    expect(totals.csatResponses).toBeGreaterThan(20);
    expect(totals.medianFirstResponseMinutes).not.toBeNull();
    const open = openTickets(truth, {}, { slaHours: 24, limit: 500, now: Date.now(), profileOf: String });
    expect(open.total).toBeGreaterThan(3);
    expect(open.tickets.filter((ticket) => ticket.firstReplyAt !== null).length).toBeGreaterThan(0);
    expect(
      repeatPurchase(truth, { from: '2025-01-01', to: '2025-07-01', tz: 'UTC' }).distribution['5+'],
    ).toBeGreaterThan(5);
    expect(history.messages.length - history.distinctMessages).toBeGreaterThan(30);
  });

  // Last: it adds a customer the whole-history checks above do not know. Ingest dates a message by its arrival
  // minus (sentAt − timestamp), so a retry resent unchanged is dated as many seconds later as it came: the resolver
  // keeps the first copy only.
  it("counts an order resent unchanged once, at its first copy's time", async () => {
    const order = {
      type: 'track',
      event: 'Order Completed',
      userId: uniqueName('retrying-buyer'),
      messageId: uniqueName('retried-order'),
      timestamp: '2026-01-01T00:00:00.000Z',
      sentAt: '2026-01-01T00:00:10.000Z',
      properties: { revenue: 25 },
    };
    const copies = async () => {
      const result = await cdp.platform.clickhouse.client.query(
        named('test.countTouchpoints', {
          query: 'SELECT count() AS copies FROM touchpoints WHERE message_id = {id:String}',
          query_params: { id: order.messageId },
          format: 'JSONEachRow',
        }),
      );
      return Number((await result.json<{ copies: number }>())[0]?.copies);
    };
    const firstSent = Date.now();
    expect((await send(cdp.url, '/v1/track', order, { writeKey: cdp.writeKey })).status).toBe(200);
    await waitFor(async () => (await copies()) === 1, { timeoutMs: 30_000, what: 'the first copy stored' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const duplicates = await counterOf(cdp.url, 'cdp_resolver_events_duplicate_total');
    const retrySent = Date.now();
    expect((await send(cdp.url, '/v1/track', order, { writeKey: cdp.writeKey })).status).toBe(200);
    await waitFor(async () => (await counterOf(cdp.url, 'cdp_resolver_events_duplicate_total')) > duplicates, {
      timeoutMs: 30_000,
      what: 'the retry dropped',
    });
    expect(await copies()).toBe(1);
    // The retry is dated at or after `between`, its first copy before it (it came 1.5 s earlier).
    const between = new Date(retrySent - 10_000).toISOString();
    const before = { from: new Date(firstSent - 60_000).toISOString(), to: between };
    const after = { from: between, to: new Date(retrySent + 3_600_000).toISOString() };
    expect((await ask('kpis', before)).totals).toMatchObject({ orders: 1, revenue: 25 });
    expect((await ask('kpis', after)).totals).toMatchObject({ orders: 0, revenue: 0 });
    expect(await ask('repeat-purchase', after)).toMatchObject({ customers: 0, orders: 0 });
  });

  // Also after the whole-history checks, on days of their own. Ten orders of 0.1 added one after another as Float64
  // make 0.9999999999999999; revenue is summed in whole millionths instead. A revenue too large for that counts as
  // the bound, 1e24, rather than failing every answer over its window.
  it('sums revenue exactly: ten orders of 0.1 make 1', async () => {
    const userId = uniqueName('dime-buyer');
    const order = (index: number, timestamp: string, revenue: number) => ({
      type: 'track',
      event: 'Order Completed',
      userId,
      messageId: uniqueName(`order-${index}`),
      timestamp,
      properties: { revenue },
    });
    const dimes = Array.from({ length: 10 }, (_, index) => order(index, `2019-03-05T10:00:0${index}.000Z`, 0.1));
    const huge = order(10, '2019-03-07T10:00:00.000Z', 1e303);
    const orders = [...dimes, huge];
    expect((await send(cdp.url, '/v1/batch', { batch: orders }, { writeKey: cdp.writeKey })).status).toBe(200);
    await waitFor(
      async () => {
        const result = await cdp.platform.clickhouse.client.query(
          named('test.countOrders', {
            query: 'SELECT count() AS stored FROM touchpoints WHERE message_id IN {ids:Array(String)}',
            query_params: { ids: orders.map((each) => each.messageId) },
            format: 'JSONEachRow',
          }),
        );
        return Number((await result.json<{ stored: number }>())[0]?.stored) === orders.length;
      },
      { timeoutMs: 30_000, what: 'the orders stored' },
    );
    const day = (date: string) => ({ from: `${date}T00:00:00.000Z`, to: `${date}T23:59:59.999Z` });
    expect((await ask('kpis', day('2019-03-05'))).totals).toMatchObject({ orders: 10, revenue: 1, aov: 0.1 });
    expect((await ask('kpis', day('2019-03-07'))).totals).toMatchObject({ orders: 1, revenue: 1e24 });
  });

  // Also after the whole-history checks. A customer's profiles stored apart and merged later keep their own first
  // messages: the device's in January on the web, the user id's in February on the app. February then has an active
  // customer new on the app, but not a new customer, and no first-seen cohort.
  it('takes the first messages of every profile merged into a customer, however long before the window', async () => {
    const userId = uniqueName('split-customer');
    const device = uniqueName('split-device');
    const post = async (message: object) =>
      expect((await send(cdp.url, '/v1/batch', { batch: [message] }, { writeKey: cdp.writeKey })).status).toBe(200);
    const profileIdOf = async (ref: string) =>
      (await read(cdp.url, `/v1/profiles/${encodeURIComponent(ref)}`, cdp.readKey)).body.profileId as
        string | undefined;
    const stored = (what: string, test: () => Promise<boolean>) => waitFor(test, { timeoutMs: 30_000, what });
    await post({
      type: 'page',
      anonymousId: device,
      name: 'Home',
      timestamp: '2026-01-05T10:00:00.000Z',
      properties: { channel: 'web' },
    });
    await stored('the device profile', async () => (await profileIdOf(`anonymous_id:${device}`)) !== undefined);
    await post({
      type: 'track',
      userId,
      event: 'App Opened',
      timestamp: '2026-02-10T09:00:00.000Z',
      properties: { channel: 'app' },
    });
    await stored('the user profile', async () => (await profileIdOf(`user_id:${userId}`)) !== undefined);
    expect(await profileIdOf(`user_id:${userId}`)).not.toBe(await profileIdOf(`anonymous_id:${device}`));
    await post({ type: 'identify', userId, anonymousId: device, timestamp: '2026-03-15T09:00:00.000Z' });
    await stored(
      'the merge',
      async () => (await profileIdOf(`user_id:${userId}`)) === (await profileIdOf(`anonymous_id:${device}`)),
    );
    const february = { from: '2026-02-01', to: '2026-03-01' };
    const answer = await ask('kpis', february);
    expect(answer.totals).toMatchObject({ activeCustomers: 1, newCustomers: 0 });
    expect(answer.byChannel).toEqual([
      expect.objectContaining({ channel: 'app', activeCustomers: 1, newCustomers: 1 }),
    ]);
    // A month after one with a message: returning, not new; and new in January only.
    expect((await ask('lifecycle', { ...february, period: 'month' })).periods).toEqual([
      { period: '2026-02-01', new: 0, returning: 1, resurrecting: 0, dormant: 0 },
    ]);
    const series = await ask('kpis/series', { from: '2026-01-01', to: '2026-03-01', period: 'month' });
    expect((series.series as Array<{ newCustomers: number }>).map((entry) => entry.newCustomers)).toEqual([1, 0]);
    const cohorts = (await ask('retention', { ...february, cohort: 'first_seen', period: 'week', periods: 4 }))
      .cohorts as Array<{ size: number }>;
    expect(cohorts.map((cohort) => cohort.size)).toEqual([0, 0, 0, 0]);
    const january = (
      await ask('retention', { from: '2026-01-05', to: '2026-01-12', cohort: 'first_seen', period: 'week', periods: 6 })
    ).cohorts as Array<{ size: number; retained: number[] }>;
    expect(january).toEqual([{ cohort: '2026-01-05', size: 1, retained: [1, 0, 0, 0, 0, 1] }]);
  });
});
