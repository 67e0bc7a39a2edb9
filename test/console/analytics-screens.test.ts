// The analytics screens in Chromium against a platform holding the demo data: the numbers the API gives, filters kept over a reload, both languages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { waitFor } from '@cdp/runtime';
import { messages } from '@cdp/console/locales';
import { checkView, startConsoleRig, widths, type ConsoleRig } from '../harness/console';
import { loadDemo } from '../clients/store';

const vi = messages.vi;
// Texts that are the same in both languages (Email, SMS, NPS, —) are not English left over.
// The rig's browser runs on Vietnam's clocks, so the console's filters are in that zone.
const tz = 'Asia/Ho_Chi_Minh';

// vi-VN formats as the console should write them; the browser's and Node's ICU may differ in the kind of space only.
const spaces = (text: string | null) => (text ?? '').replace(/\s+/gu, ' ').trim();
const integer = new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 0 });
const digits = (count: number) => new Intl.NumberFormat('vi-VN', { maximumFractionDigits: count });
const number = (value: number | null) => (value === null ? '—' : spaces(integer.format(value)));
const percent = (ratio: number | null) =>
  ratio === null
    ? '—'
    : spaces(new Intl.NumberFormat('vi-VN', { style: 'percent', maximumFractionDigits: 1 }).format(ratio));
const vnd = (value: number) =>
  spaces(
    new Intl.NumberFormat('vi-VN', { style: 'currency', currency: 'VND', maximumFractionDigits: 0 }).format(value),
  );
const unit = (template: string, value: string) => spaces(template.replace('{{value}}', value));

type Kpis = Record<string, number | null>;
const kpiNames = [
  'activeCustomers',
  'newCustomers',
  'orders',
  'revenue',
  'aov',
  'purchaseFrequency',
  'churnRate',
  'nps',
  'csat',
  'tickets',
  'complaints',
  'medianFirstResponseMinutes',
  'medianResolutionHours',
];

function kpiText(name: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (name === 'revenue' || name === 'aov') return vnd(value);
  if (name === 'churnRate') return percent(value);
  if (name === 'purchaseFrequency') return digits(2).format(value);
  if (name === 'nps' || name === 'csat') return digits(1).format(value);
  if (name === 'medianFirstResponseMinutes') return unit(vi.common.units.minutes, digits(1).format(value));
  if (name === 'medianResolutionHours') return unit(vi.common.units.hours, digits(1).format(value));
  return number(value);
}

// A preset window computed here, apart from the console's code: today counts, `to` is tomorrow.
const dayMs = 86_400_000;
const addDays = (day: string, days: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + days * dayMs).toISOString().slice(0, 10);
const today = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    Date.now(),
  );
const lastDays = (days: number) => ({ from: addDays(addDays(today(), 1), -days), to: addDays(today(), 1), tz });

let rig: ConsoleRig;

async function api<T>(path: string, params: Record<string, string | number> = {}): Promise<T> {
  const search = new URLSearchParams(
    Object.entries(params).map(([name, value]): [string, string] => [name, String(value)]),
  );
  const response = await fetch(`${rig.cdp.url}${path}${search.size ? `?${search}` : ''}`, {
    headers: { authorization: `Bearer ${rig.cdp.readKey}` },
  });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

const text = async (locator: Locator) => spaces(await locator.textContent());
/** Nothing on the page still says it is loading. */
const settled = (page: Page) => page.waitForFunction("!document.querySelector('.loading')");

/** Chooses a preset and a channel in the filter bar, then reloads: the URL keeps them. */
async function filterAndReload(page: Page, preset: string, channel: string): Promise<void> {
  await page.getByLabel(vi.common.filters.range, { exact: true }).selectOption(preset);
  await page.waitForURL(new RegExp(`preset=${preset}`));
  await page.getByLabel(vi.common.filters.channel, { exact: true }).selectOption(channel);
  await page.waitForURL(new RegExp(`channel=${channel}`));
  await page.reload();
  expect(await page.getByLabel(vi.common.filters.range, { exact: true }).inputValue()).toBe(preset);
  expect(await page.getByLabel(vi.common.filters.channel, { exact: true }).inputValue()).toBe(channel);
}

beforeAll(async () => {
  rig = await startConsoleRig();
  await loadDemo(rig.cdp, { customers: 300, months: 4, seed: 7 });
  const storedAt = Date.now();
  // Groups and the RFM grid come from an evaluation that began after everything was stored.
  await waitFor(
    async () => {
      const list = await api<{ evaluatedAt: string | null }>('/v1/segments');
      return list.evaluatedAt !== null && Date.parse(list.evaluatedAt) > storedAt;
    },
    { timeoutMs: 30_000, what: 'a segment evaluation of the demo data' },
  );
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

describe('the overview', () => {
  it('shows every KPI of the last 30 days as the API gives it, with its change against the 30 days before', async () => {
    const window = lastDays(30);
    const kpis = await api<{ totals: Kpis; byChannel: Array<Kpis & { channel: string }> }>(
      '/v1/analytics/kpis',
      window,
    );
    const before = await api<{ totals: Kpis }>('/v1/analytics/kpis', {
      ...window,
      from: addDays(window.from, -30),
      to: window.from,
    });
    const series = await api<{ series: Kpis[] }>('/v1/analytics/kpis/series', { ...window, period: 'day' });
    expect(kpis.totals.activeCustomers).toBeGreaterThan(0);
    const { context, page } = await rig.open({ path: '/console/' });
    for (const name of kpiNames)
      await expect
        .poll(() => text(page.getByTestId(`kpi-${name}`)), { message: name })
        .toBe(kpiText(name, kpis.totals[name]));
    await settled(page);
    for (const name of kpiNames) {
      const [now, then] = [kpis.totals[name], before.totals[name]];
      if (now === null || now === undefined || then === null || then === undefined || then === 0 || now === then)
        continue;
      expect(await text(page.getByTestId(`kpi-change-${name}`)), name).toContain(
        `${now > then ? '▲' : '▼'} ${percent(Math.abs(now - then) / Math.abs(then))}`,
      );
    }
    for (const row of kpis.byChannel) {
      const line = page.locator(`[data-testid="by-channel"] tr[data-channel="${row.channel}"]`);
      expect(await text(line.locator('th'))).toBe((vi.common.channels as Record<string, string>)[row.channel]);
      expect(await text(line.locator('td[data-kpi="orders"]'))).toBe(number(row.orders ?? null));
      expect(await text(line.locator('td[data-kpi="revenue"]'))).toBe(vnd(row.revenue ?? 0));
    }
    const trend = page.locator('[data-testid="kpi-trend"] details table tbody tr');
    await expect.poll(() => trend.count()).toBe(series.series.length);
    expect(await text(trend.last().locator('td'))).toBe(number(series.series.at(-1)?.activeCustomers ?? null));
    await context.close();
  });

  it('keeps the period and the channel over a reload, with the API’s numbers for them', async () => {
    const { context, page } = await rig.open({ path: '/console/' });
    await page.getByTestId('kpi-orders').waitFor();
    await filterAndReload(page, '90d', 'web');
    const kpis = await api<{ totals: Kpis }>('/v1/analytics/kpis', { ...lastDays(90), channel: 'web' });
    for (const name of kpiNames)
      await expect
        .poll(() => text(page.getByTestId(`kpi-${name}`)), { message: name })
        .toBe(kpiText(name, kpis.totals[name]));
    await context.close();
  });
});

interface Retention {
  cohorts: Array<{ cohort: string; size: number; retained: number[] }>;
}
const periodStart = (day: string, period: string, count: number) =>
  period === 'week'
    ? addDays(day, 7 * count)
    : period === 'day'
      ? addDays(day, count)
      : new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1 + count, 1)).toISOString().slice(0, 10);

async function expectCohorts(page: Page, answer: Retention, period: string): Promise<void> {
  expect(answer.cohorts.some((row) => row.size > 0)).toBe(true);
  for (const row of answer.cohorts) {
    await expect
      .poll(() => text(page.getByTestId(`retention-size-${row.cohort}`)), { message: row.cohort })
      .toBe(number(row.size));
    for (const [offset, back] of row.retained.entries()) {
      if (row.size === 0 || periodStart(row.cohort, period, offset) > today()) continue;
      const cell = page.getByTestId(`retention-share-${row.cohort}-${offset}`);
      expect(await text(cell)).toBe(percent(back / row.size));
      expect(spaces(await cell.locator('xpath=..').getAttribute('title'))).toContain(`${number(back)} `);
    }
  }
}

describe('retention', () => {
  it('shows each cohort’s size and the share back in each later period as the API gives them, and keeps its choices over a reload', async () => {
    const { context, page } = await rig.open({ path: '/console/retention' });
    await expectCohorts(
      page,
      await api<Retention>('/v1/analytics/retention', {
        ...lastDays(30),
        cohort: 'first_purchase',
        period: 'week',
        periods: 8,
      }),
      'week',
    );
    await page.getByLabel(vi.retention.cohort, { exact: true }).selectOption('first_seen');
    await page.getByLabel(vi.retention.period, { exact: true }).selectOption('month');
    await page.waitForURL(/cohort=first_seen.*period=month|period=month.*cohort=first_seen/);
    await filterAndReload(page, '90d', 'app');
    expect(await page.getByLabel(vi.retention.cohort, { exact: true }).inputValue()).toBe('first_seen');
    await expectCohorts(
      page,
      await api<Retention>('/v1/analytics/retention', {
        ...lastDays(90),
        channel: 'app',
        cohort: 'first_seen',
        period: 'month',
        periods: 8,
      }),
      'month',
    );
    await context.close();
  });
});

describe('repeat purchase', () => {
  it('shows the API’s measures and buyers by number of orders, and keeps the filters over a reload', async () => {
    type Repeat = Record<string, number | null> & { distribution: Record<string, number> };
    const check = async (page: Page, answer: Repeat) => {
      const days = (value: number | null) =>
        value === null ? '—' : unit(vi.common.units.days, digits(1).format(value));
      await expect.poll(() => text(page.getByTestId('repeat-customers'))).toBe(number(answer.customers ?? null));
      expect(await text(page.getByTestId('repeat-repeatCustomers'))).toBe(number(answer.repeatCustomers ?? null));
      expect(await text(page.getByTestId('repeat-repeatRate'))).toBe(percent(answer.repeatRate ?? null));
      expect(await text(page.getByTestId('repeat-ordersPerCustomer'))).toBe(
        answer.ordersPerCustomer === null ? '—' : digits(2).format(answer.ordersPerCustomer ?? 0),
      );
      expect(await text(page.getByTestId('repeat-medianDaysToSecondPurchase'))).toBe(
        days(answer.medianDaysToSecondPurchase ?? null),
      );
      expect(await text(page.getByTestId('repeat-medianDaysBetweenPurchases'))).toBe(
        days(answer.medianDaysBetweenPurchases ?? null),
      );
      for (const [bucket, customers] of Object.entries(answer.distribution)) {
        const share = (answer.customers ?? 0) > 0 ? customers / (answer.customers as number) : null;
        expect(await text(page.getByTestId(`repeat-distribution-${bucket}`)), bucket).toBe(
          `${number(customers)} (${percent(share)})`,
        );
      }
    };
    const { context, page } = await rig.open({ path: '/console/repeat' });
    const answer = await api<Repeat>('/v1/analytics/repeat-purchase', lastDays(30));
    expect(answer.repeatCustomers).toBeGreaterThan(0);
    await check(page, answer);
    await filterAndReload(page, '90d', 'store');
    await check(page, await api<Repeat>('/v1/analytics/repeat-purchase', { ...lastDays(90), channel: 'store' }));
    await context.close();
  });
});

describe('care', () => {
  it('counts the open tickets and the breached ones as the API does, lists them, and keeps the filters over a reload', async () => {
    type Open = { total: number; breached: number; tickets: Array<{ ticketId: string; profileId: string }> };
    const { context, page } = await rig.open({ path: '/console/care' });
    const open = await api<Open>('/v1/analytics/open-tickets', { tz, slaHours: 24, limit: 50 });
    expect(open.total).toBeGreaterThan(0);
    await expect.poll(() => text(page.getByTestId('open-total'))).toBe(number(open.total));
    expect(await text(page.getByTestId('open-breached'))).toBe(number(open.breached));
    const rows = page.locator('[data-testid="open-tickets"] tbody tr');
    expect(await rows.count()).toBe(open.tickets.length);
    const first = open.tickets[0] as Open['tickets'][number];
    expect(await text(rows.first().locator('th'))).toBe(first.ticketId);
    expect(await rows.first().locator('a').getAttribute('href')).toBe(
      `/console/customers/profile_id:${first.profileId}`,
    );
    const kpis = await api<{ totals: Kpis }>('/v1/analytics/kpis', lastDays(30));
    await expect.poll(() => text(page.getByTestId('care-total-tickets'))).toBe(number(kpis.totals.tickets ?? null));
    expect(await text(page.getByTestId('care-total-medianFirstResponseMinutes'))).toBe(
      kpiText('medianFirstResponseMinutes', kpis.totals.medianFirstResponseMinutes),
    );

    await filterAndReload(page, '7d', 'email');
    const emailOpen = await api<Open>('/v1/analytics/open-tickets', { tz, channel: 'email', slaHours: 24, limit: 50 });
    await expect.poll(() => text(page.getByTestId('open-total'))).toBe(number(emailOpen.total));
    expect(await text(page.getByTestId('open-breached'))).toBe(number(emailOpen.breached));
    const emailKpis = await api<{ totals: Kpis }>('/v1/analytics/kpis', { ...lastDays(7), channel: 'email' });
    await expect
      .poll(() => text(page.getByTestId('care-total-complaints')))
      .toBe(number(emailKpis.totals.complaints ?? null));
    await context.close();
  });
});

describe('customer groups', () => {
  it('shows each lifecycle stage and RFM group with its size as GET /v1/segments gives it, and the RFM grid of /v1/analytics/rfm', async () => {
    const list = await api<{ segments: Array<{ id: string; size: number }> }>('/v1/segments');
    const rfm = await api<{
      customers: number;
      cells: Array<{ recency: number; frequency: number; customers: number }>;
    }>('/v1/analytics/rfm');
    const { context, page } = await rig.open({ path: '/console/groups' });
    const builtins = list.segments.filter(
      (segment) => segment.id.startsWith('lifecycle-') || segment.id.startsWith('rfm-'),
    );
    expect(builtins).toHaveLength(12);
    for (const segment of builtins) {
      await expect
        .poll(() => text(page.getByTestId(`group-size-${segment.id}`)), { message: segment.id })
        .toBe(number(segment.size));
      const link = page.getByTestId(`group-${segment.id}`).locator('h3 a');
      expect(await text(link)).toBe((vi.groups.names as Record<string, string>)[segment.id]);
      expect(await link.getAttribute('href')).toBe(`/console/segments/${segment.id}`);
    }
    expect(rfm.customers).toBeGreaterThan(0);
    for (let recency = 1; recency <= 5; recency += 1) {
      for (let frequency = 1; frequency <= 5; frequency += 1) {
        const expected =
          rfm.cells.find((cell) => cell.recency === recency && cell.frequency === frequency)?.customers ?? 0;
        expect(await text(page.getByTestId(`rfm-cell-${recency}-${frequency}`)), `R${recency} F${frequency}`).toBe(
          number(expected),
        );
      }
    }
    await context.close();
  });
});

describe('every analytics screen', () => {
  const screens = [
    { name: 'overview', path: '/console/', ready: ['[data-testid="kpi-orders"]', '[data-testid="kpi-trend"] .uplot'] },
    { name: 'retention', path: '/console/retention', ready: ['[data-testid="retention-table"]'] },
    { name: 'repeat', path: '/console/repeat', ready: ['[data-testid="repeat-distribution"]'] },
    {
      name: 'care',
      path: '/console/care',
      ready: [
        '[data-testid="open-tickets"]',
        '[data-testid="tickets-chart"] .uplot',
        '[data-testid="satisfaction-chart"] .uplot',
        '[data-testid="nps-scores"]',
      ],
    },
    { name: 'groups', path: '/console/groups', ready: ['[data-testid="rfm-grid"]'] },
  ];
  // One page at a time: twenty pages drawing charts at once on two cores take longer than a test may.
  const views = screens.flatMap((screen) =>
    (['vi', 'en'] as const).flatMap((language) =>
      [widths.desktop, widths.phone].map((width) => ({ ...screen, language, width })),
    ),
  );

  it.each(views)(
    '$name in $language at $width px: a screenshot, nothing serious for axe, no English left in Vietnamese, nothing wider than the page',
    async (view) => {
      const { name, path, ready, language, width } = view;
      const { context, page } = await rig.open({ language, width, path });
      try {
        for (const selector of ready) await page.locator(selector).first().waitFor();
        await settled(page);
        await checkView(page, `${name}-${language}-${width}`, language);
      } finally {
        await context.close();
      }
    },
  );
});
