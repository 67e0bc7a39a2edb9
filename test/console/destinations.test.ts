// The destinations screens in Chromium against a platform and a real webhook receiver: a destination made in the form
// (its template previewed over a real customer) fires and shows in its delivery log; a dead letter is replayed from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { waitFor } from '@cdp/runtime';
import { messages } from '@cdp/console/locales';
import { adminCall, checkView, startConsoleRig, widths, type ConsoleRig } from '../harness/console';
import { send } from '../harness/http';
import { uniqueName } from '../harness/platform';
import { startReceiver, type WebhookReceiver } from '../harness/webhook-receiver';

const vi = messages.vi.destinations;
const soon = { timeout: 20_000 };

let rig: ConsoleRig;
let hook: WebhookReceiver;
let flaky: WebhookReceiver;
const userId = uniqueName('minh_anh');

const api = <T>(path: string, init: { method?: string; body?: unknown } = {}) => adminCall<T>(rig.cdp, path, init);

const track = async (event: string, properties: Record<string, unknown>) =>
  expect(
    (await send(rig.cdp.url, '/v1/track', { userId, event, properties }, { writeKey: rig.cdp.writeKey })).status,
  ).toBe(200);

/** Screenshot, axe and (in Vietnamese) no English, of a page in both languages at both widths once `ready` shows. */
async function everyView(name: string, path: string, ready: string): Promise<void> {
  const views = (['vi', 'en'] as const).flatMap((language) =>
    [widths.desktop, widths.phone].map((width) => ({ language, width })),
  );
  await Promise.all(
    views.map(async ({ language, width }) => {
      const { context, page } = await rig.open({ language, width, path, key: rig.cdp.adminKey });
      try {
        await page.locator(ready).first().waitFor();
        await checkView(page, `${name}-${language}-${width}`, language);
      } finally {
        await context.close();
      }
    }),
  );
}

/** Rows of the delivery log in this state, after a click on Refresh. */
async function rowsWithStatus(page: Page, status: string): Promise<number> {
  await page.getByRole('button', { name: vi.refresh }).click();
  return page.locator(`[data-testid="delivery-row"][data-status="${status}"]`).count();
}

beforeAll(async () => {
  rig = await startConsoleRig({
    env: {
      // The receivers listen on loopback, which destinations refuse unless allowed.
      CDP_DESTINATIONS_ALLOW: '127.0.0.0/8,::1',
      CDP_DESTINATIONS_POLL_MS: '100',
      CDP_DESTINATIONS_BACKOFF_BASE_MS: '200',
      CDP_DESTINATIONS_BACKOFF_MAX_MS: '500',
      // Fewer queries in flight per key than the overview asks at once: the console must wait its turn, not fail.
      CDP_QUERY_CONCURRENCY_PER_KEY: '1',
    },
  });
  hook = await startReceiver();
  // Refuses its first request (a 400 is final: a dead letter at once), then takes everything.
  flaky = await startReceiver((index) => ({ status: index === 0 ? 400 : 200 }));
  const identified = await send(
    rig.cdp.url,
    '/v1/identify',
    { userId, traits: { name: 'Trần Minh Anh', phone: '0912345678', city: 'Đà Nẵng' } },
    { writeKey: rig.cdp.writeKey },
  );
  expect(identified.status).toBe(200);
  await waitFor(async () => ((await api(`/v1/profiles/user_id:${userId}`)).status === 200 ? true : null), {
    timeoutMs: 30_000,
    what: 'the customer stored',
  });
}, 120_000);

afterAll(async () => {
  await hook?.close();
  await flaky?.close();
  await rig?.close();
});

describe('the destinations screens', () => {
  it('create a destination whose template is previewed over a real customer; its delivery shows in its log', async () => {
    const { context, page } = await rig.open({ path: '/console/destinations', key: rig.cdp.adminKey });
    await page.getByText(vi.list.none).waitFor();
    await page.getByRole('link', { name: vi.newDestination }).click();
    await page.getByLabel(vi.form.name, { exact: true }).fill('Cảm ơn sau mua hàng');
    await page.getByLabel(vi.form.url, { exact: true }).fill(hook.url);
    await page.getByRole('button', { name: vi.form.generate }).click();
    expect(await page.getByLabel(vi.form.secret, { exact: true }).inputValue()).toMatch(/^whsec_[0-9a-f]{48}$/);
    const trigger = page.getByTestId('trigger').first();
    await trigger.getByLabel(vi.form.kind, { exact: true }).selectOption('event');
    await trigger.getByLabel(vi.form.event, { exact: true }).fill('Order Completed');
    await trigger.getByLabel(vi.form.property, { exact: true }).fill('store');
    await trigger.getByLabel(vi.form.equals, { exact: true }).fill('Hội An');
    await page
      .getByLabel(vi.form.template, { exact: true })
      .fill('{"to": {{ profile.traits.phone | json }}, "text": "Cảm ơn {{ profile.traits.name }}!"}');
    await page.getByLabel(vi.preview.customer, { exact: true }).fill(`user_id:${userId}`);
    await expect
      .poll(() => page.getByTestId('preview-body').textContent(), soon)
      .toBe('{"to": "0912345678", "text": "Cảm ơn Trần Minh Anh!"}');
    await checkView(page, 'destination-new-filled-vi-1280', 'vi');

    await page.getByTestId('save-destination').click();
    await page.waitForURL(/\/console\/destinations\/dst_[0-9a-f]+$/);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    const { body: saved } = await api<{ triggers: unknown[]; status: string }>(`/v1/destinations/${id}`);
    expect(saved).toMatchObject({
      status: 'active',
      triggers: [{ kind: 'event', event: 'Order Completed', where: [{ property: 'store', equals: 'Hội An' }] }],
    });

    await page.getByTestId('send-test').click();
    await expect.poll(() => page.getByTestId('test-answer').textContent(), soon).toContain('200');
    expect(hook.requests).toHaveLength(1);

    await track('Order Completed', { store: 'Huế', revenue: 90_000 });
    await track('Order Completed', { store: 'Hội An', revenue: 150_000 });
    await waitFor(() => (hook.requests.length >= 2 ? true : null), { timeoutMs: 30_000, what: 'the delivery' });
    expect(JSON.parse(hook.requests[1]?.body ?? '')).toEqual({ to: '0912345678', text: 'Cảm ơn Trần Minh Anh!' });
    expect(hook.requests[1]?.headers['x-cdp-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    await expect.poll(() => rowsWithStatus(page, 'delivered'), soon).toBe(1);
    // The order from another store matched no filter: one delivery, no more.
    expect(await page.getByTestId('delivery-row').count()).toBe(1);
    await context.close();

    await everyView('destinations-list', '/console/destinations', `[data-testid="destination-row-${id}"]`);
    await everyView('destination-detail', `/console/destinations/${id}`, '[data-testid="delivery-row"]');
    await everyView('destination-new', '/console/destinations/new', '#destination-name');
  });

  it('create a reply-deadline follow-up and a birthday trigger in the form, in English; a wrong one names its field', async () => {
    const en = messages.en.destinations;
    const { context, page } = await rig.open({
      language: 'en',
      width: widths.phone,
      path: '/console/destinations/new',
      key: rig.cdp.adminKey,
    });
    await page.getByLabel(en.form.name, { exact: true }).fill('Care: reply deadline and birthdays');
    await page.getByLabel(en.form.url, { exact: true }).fill(hook.url);
    await page.getByRole('button', { name: en.form.generate }).click();
    const sla = page.getByTestId('trigger').first();
    await sla.getByLabel(en.form.kind, { exact: true }).selectOption('followUp');
    await sla.getByLabel(en.form.event, { exact: true }).fill('Ticket Opened');
    await sla.getByLabel(en.form.after, { exact: true }).fill('4');
    await sla.getByLabel(en.form.unit, { exact: true }).selectOption('hours');
    await sla.getByLabel(en.form.unless, { exact: true }).fill('Ticket Replied');
    await sla.getByLabel(en.form.matchOn, { exact: true }).fill('ticket_id');
    await page.getByRole('button', { name: en.form.addTrigger }).click();
    const birthday = page.getByTestId('trigger').nth(1);
    await birthday.getByLabel(en.form.kind, { exact: true }).selectOption('anniversary');
    await birthday.getByLabel(en.form.trait, { exact: true }).fill('birthday');
    await birthday.getByLabel(en.form.daysBefore, { exact: true }).fill('120');
    await page.getByTestId('save-destination').click();
    // More than 90 days before is refused by the API, which names the field; the form keeps what was typed.
    await expect.poll(() => page.getByRole('alert').first().textContent(), soon).toBeTruthy();
    expect(await page.locator('.destination-form').textContent()).toContain('triggers.1.daysBefore');
    await checkView(page, 'destination-new-followup-invalid-en-390', 'en');

    await birthday.getByLabel(en.form.daysBefore, { exact: true }).fill('7');
    await page.getByTestId('save-destination').click();
    await page.waitForURL(/\/console\/destinations\/dst_[0-9a-f]+$/);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    expect((await api<{ triggers: unknown[] }>(`/v1/destinations/${id}`)).body.triggers).toEqual([
      {
        kind: 'followUp',
        event: 'Ticket Opened',
        where: [],
        after: { value: 4, unit: 'hours' },
        unless: { event: 'Ticket Replied', where: [] },
        matchOn: 'ticket_id',
      },
      { kind: 'anniversary', trait: 'birthday', daysBefore: 7 },
    ]);
    await expect
      .poll(() => page.locator('.facts').textContent(), soon)
      .toContain('4 h after Ticket Opened, unless Ticket Replied with the same ticket_id');
    expect(await page.locator('.facts').textContent()).toContain('7 days before each birthday');
    // Looked at once its delivery log has answered (none yet), not while it still says it is loading.
    await page.getByText(en.deliveries.none).waitFor();
    await checkView(page, 'destination-followup-detail-en-390', 'en');
    await context.close();

    // The same destination's detail in Vietnamese: the follow-up's trigger names the shared property too.
    const detail = await rig.open({ width: widths.phone, path: `/console/destinations/${id}`, key: rig.cdp.adminKey });
    await expect
      .poll(() => detail.page.locator('.facts').textContent(), soon)
      .toContain('4 giờ sau Ticket Opened, trừ khi có Ticket Replied cùng ticket_id');
    await detail.page.getByText(vi.deliveries.none).waitFor();
    await checkView(detail.page, 'destination-followup-detail-vi-390', 'vi');
    await detail.context.close();

    // The same fields in Vietnamese, with nothing left in English.
    const viewed = await rig.open({ width: widths.phone, path: '/console/destinations/new', key: rig.cdp.adminKey });
    await viewed.page.getByLabel(vi.form.kind, { exact: true }).selectOption('followUp');
    await viewed.page.getByRole('button', { name: vi.form.addTrigger }).click();
    await viewed.page
      .getByTestId('trigger')
      .nth(1)
      .getByLabel(vi.form.kind, { exact: true })
      .selectOption('anniversary');
    await viewed.page.getByLabel(vi.form.daysBefore, { exact: true }).waitFor();
    await checkView(viewed.page, 'destination-new-followup-vi-390', 'vi');
    await viewed.context.close();
    expect((await api(`/v1/destinations/${id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('replay a dead letter from the log, and pause and resume a destination', async () => {
    const { status, body } = await api<{ id: string }>('/v1/destinations', {
      method: 'POST',
      body: {
        name: 'Báo khiếu nại',
        url: flaky.url,
        secret: 'whsec_console_test_0123456789',
        triggers: [
          { kind: 'event', event: 'Ticket Opened', where: [{ property: 'type', equals: 'complaint' }] },
          {
            kind: 'followUp',
            event: 'Ticket Opened',
            after: { value: 4, unit: 'hours' },
            unless: { event: 'Ticket Replied' },
            matchOn: 'ticketId',
          },
        ],
      },
    });
    expect(status).toBe(201);
    await track('Ticket Opened', { type: 'complaint', ticketId: 't-1' });
    const { context, page } = await rig.open({ path: `/console/destinations/${body.id}`, key: rig.cdp.adminKey });
    await expect.poll(() => rowsWithStatus(page, 'dead'), soon).toBe(1);
    expect(await page.getByTestId('delivery-row').textContent()).toContain('400');
    // Each trigger in words: the follow-up (an SLA) as well.
    expect(await page.locator('.facts').textContent()).toContain(
      '4 giờ sau Ticket Opened, trừ khi có Ticket Replied cùng ticketId',
    );
    await page.getByTestId('replay').click();
    await expect.poll(() => page.getByTestId('replayed').textContent(), soon).toContain('1');
    await expect.poll(() => rowsWithStatus(page, 'delivered'), soon).toBe(1);
    expect(flaky.requests).toHaveLength(2);
    expect(flaky.requests[1]?.headers['idempotency-key']).toBe(flaky.requests[0]?.headers['idempotency-key']);

    await page.getByTestId('toggle-status').click();
    await expect
      .poll(() => page.getByTestId('destination-status').textContent(), soon)
      .toBe(messages.vi.destinations.status.paused);
    expect((await api<{ status: string }>(`/v1/destinations/${body.id}`)).body.status).toBe('paused');
    await page.getByTestId('toggle-status').click();
    await expect
      .poll(() => page.getByTestId('destination-status').textContent(), soon)
      .toBe(messages.vi.destinations.status.active);
    await context.close();
  });

  it('wait out a 429 for too many queries of one key at once, as the API asks, instead of showing it', async () => {
    const { context, page } = await rig.open({ path: '/console/' });
    await page.locator('[data-testid="kpi-orders"]').waitFor();
    await page.locator('[data-testid="kpi-trend"] .uplot').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await context.close();
  });

  it('tell a key without the admin permission what it lacks', async () => {
    const { context, page } = await rig.open({ path: '/console/destinations' });
    await expect.poll(() => page.getByRole('alert').textContent(), soon).toContain('admin');
    await context.close();
  });
});
