// The segments screens and Customer 360 in Chromium against a platform holding the demo data: the numbers the API gives, the builder, audiences, search.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cdp/runtime';
import { messages } from '@cdp/console/locales';
import { adminCall, checkView, startConsoleRig, widths, type ConsoleRig } from '../harness/console';
import { loadDemo } from '../clients/store';

const vi = messages.vi;
// Texts that are the same in both languages (Email, SMS, NPS, —) are not English left over.
/** expect.poll waits a second by default; the page waits for the API (the preview is debounced, evaluations share the store). */
const soon = { timeout: 15_000 };
const number = (value: number) => new Intl.NumberFormat('vi-VN', { maximumFractionDigits: 0 }).format(value);

interface Segment {
  id: string;
  name: string;
  kind: string;
  size: number;
  rule: unknown;
}
interface SegmentList {
  segments: Segment[];
  evaluatedAt?: string | null;
}
interface MembersPage {
  members: Array<{ profileId: string; phones: string[] }>;
  nextCursor: string | null;
}

let rig: ConsoleRig;

const api = <T>(path: string, init: { method?: string; body?: unknown } = {}) => adminCall<T>(rig.cdp, path, init);

/** Sizes as of an evaluation that started after `since` (every second on this rig). */
async function evaluatedAfter(since: number): Promise<SegmentList> {
  return waitFor(
    async () => {
      const { body } = await api<SegmentList>('/v1/segments');
      return body.evaluatedAt && Date.parse(body.evaluatedAt) > since + 1000 ? body : undefined;
    },
    { timeoutMs: 30_000, what: 'a segment evaluation after the data was stored' },
  );
}

/** Opens a path in both languages at both widths (side by side), waits for `ready`, and checks each. */
async function everyView(name: string, path: string, ready: string): Promise<void> {
  const views = (['vi', 'en'] as const).flatMap((language) =>
    [widths.desktop, widths.phone].map((width) => ({ language, width })),
  );
  await Promise.all(
    views.map(async ({ language, width }) => {
      const { context, page } = await rig.open({ language, width, path });
      try {
        await page.locator(ready).first().waitFor();
        await checkView(page, `${name}-${language}-${width}`, language);
      } finally {
        await context.close();
      }
    }),
  );
}

beforeAll(async () => {
  rig = await startConsoleRig();
  await loadDemo(rig.cdp, { customers: 300, months: 4, seed: 7 });
  await evaluatedAfter(Date.now());
}, 120_000);

afterAll(async () => {
  await rig?.close();
});

describe('the segments screens', () => {
  it('list every segment with its size as GET /v1/segments gives it, built-ins named in Vietnamese', async () => {
    const { body } = await api<SegmentList>('/v1/segments');
    const { context, page } = await rig.open({ path: '/console/segments' });
    for (const segment of body.segments) {
      await expect
        .poll(() => page.getByTestId(`segment-size-${segment.id}`).textContent(), soon)
        .toBe(number(segment.size));
      const name = (vi.segments.builtin as Record<string, string>)[segment.id] ?? segment.name;
      expect(await page.getByTestId(`segment-row-${segment.id}`).locator('th').textContent()).toBe(name);
    }
    await context.close();
    await everyView('segments-list', '/console/segments', '[data-testid^="segment-size-"]');
  });

  it('builds a segment through the editor: the preview is the API preview, the saved segment lists the size the API gives', async () => {
    const expected = {
      and: [
        { stat: 'orders', gte: 2 },
        { event: 'Order Completed', atLeast: 1, withinDays: 60 },
        {
          or: [
            { stat: 'channels', contains: 'web' },
            { stat: 'channels', contains: 'app' },
          ],
        },
      ],
    };
    const editor = vi.segments.editor;
    const { context, page } = await rig.open({ path: '/console/segments/new', key: rig.cdp.adminKey });
    await page.getByLabel(vi.segments.builder.name, { exact: true }).fill('Khách mua lại gần đây');
    const root = page.getByTestId('rule-group').first();
    await root.getByTestId('rule-condition').first().getByLabel(editor.value, { exact: true }).fill('2');
    await root.locator(':scope > .rule-add').getByRole('button', { name: editor.addEvent }).click();
    await root.locator('[data-kind="event"]').getByLabel(editor.withinDaysOptional, { exact: true }).fill('60');
    await root.locator(':scope > .rule-add').getByRole('button', { name: editor.addGroup }).click();
    const group = root.getByTestId('rule-group');
    for (const channel of ['web', 'app']) {
      await group.locator(':scope > .rule-add').getByRole('button', { name: editor.addStat }).click();
      const condition = group.getByTestId('rule-condition').last();
      await condition.getByLabel(editor.stat, { exact: true }).selectOption('channels');
      await condition.getByLabel(editor.value, { exact: true }).selectOption(channel);
    }
    await page.getByText(vi.segments.json.title).click();
    expect(JSON.parse((await page.getByTestId('rule-json').inputValue()) || 'null')).toEqual(expected);

    const preview = await api<{ count: number }>('/v1/segments/preview', { method: 'POST', body: { rule: expected } });
    expect(preview.body.count).toBeGreaterThan(0);
    await expect
      .poll(
        () =>
          page
            .locator('[data-testid="preview"][data-state="ready"] [data-testid="preview-count"]')
            .textContent()
            .catch(() => null),
        soon,
      )
      .toBe(number(preview.body.count));
    await checkView(page, 'segment-builder-editing-vi-1280', 'vi');

    const savedAt = Date.now();
    await page.getByTestId('save-segment').click();
    await page.waitForURL(/\/console\/segments\/seg_[0-9a-f]+$/);
    const id = page.url().split('/').pop() as string;
    await context.close();

    await evaluatedAfter(savedAt);
    // A pass is marked done before each segment's members are stored: wait for this one's, which the preview counted.
    const saved = await waitFor(
      async () => {
        const { body } = await api<Segment>(`/v1/segments/${id}`);
        return body.size === preview.body.count ? body : undefined;
      },
      { timeoutMs: 30_000, what: 'the saved segment to hold the members its preview counted' },
    );
    expect(saved.rule).toEqual(expected);
    const list = await rig.open({ path: '/console/segments' });
    await expect.poll(() => list.page.getByTestId(`segment-size-${id}`).textContent(), soon).toBe(number(saved.size));
    await list.context.close();
    await everyView('segment-builder', `/console/segments/${id}/edit`, '[data-testid="preview"][data-state="ready"]');
  });

  it('shows the API’s message at the condition an invalid rule names', async () => {
    const rule = {
      and: [
        { stat: 'orders', gte: 1 },
        { event: 'Order Completed', atLeast: -1, withinDays: 30 },
      ],
    };
    const refused = await api<{ errors: Array<{ path: string; message: string }> }>('/v1/segments/preview', {
      method: 'POST',
      body: { rule },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]?.path).toBe('rule.and.1.atLeast');

    const { context, page } = await rig.open({ path: '/console/segments/new' });
    await page.getByRole('button', { name: vi.segments.editor.addEvent }).click();
    const event = page.locator('[data-testid="rule-condition"][data-kind="event"]');
    const atLeast = event.getByLabel(vi.segments.editor.atLeast, { exact: true });
    await atLeast.fill('-1');
    const problem = event.getByTestId('rule-problem');
    await expect.poll(() => problem.textContent().catch(() => ''), soon).toContain(refused.body.errors[0]?.message);
    expect(await atLeast.getAttribute('aria-invalid')).toBe('true');
    expect(await atLeast.getAttribute('aria-describedby')).toBe(await problem.getAttribute('id'));
    expect(await page.getByTestId('rule-problem').count()).toBe(1);
    await checkView(page, 'segment-builder-invalid-vi-1280', 'vi');
    await context.close();
  });

  it('pages through a segment’s members as the API pages them, and downloads the whole audience as CSV', async () => {
    const { body } = await api<SegmentList>('/v1/segments');
    const segment = [...body.segments].sort((a, b) => b.size - a.size)[0] as Segment;
    expect(segment.size).toBeGreaterThan(40);
    const first = (await api<MembersPage>(`/v1/segments/${segment.id}/members?limit=20`)).body;
    const second = (await api<MembersPage>(`/v1/segments/${segment.id}/members?limit=20&cursor=${first.nextCursor}`))
      .body;

    const { context, page } = await rig.open({ path: `/console/segments/${segment.id}` });
    const shownIds = () => page.locator('[data-testid="member-row"] .member-id').allTextContents();
    expect(await page.getByTestId('segment-size').textContent()).toBe(number(segment.size));
    await expect.poll(shownIds, soon).toEqual(first.members.map((member) => member.profileId));
    await page.getByTestId('members-next').click();
    await expect.poll(shownIds, soon).toEqual(second.members.map((member) => member.profileId));
    await page.getByTestId('members-previous').click();
    await expect.poll(shownIds, soon).toEqual(first.members.map((member) => member.profileId));

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
    const lines = readFileSync(await download.path(), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines.length).toBe(segment.size + 1);
    expect(lines[0]).toMatch(/^profileId,/);
    await expect.poll(() => page.getByTestId('download-status').getAttribute('data-done'), soon).toBe('true');
    expect(await page.getByTestId('download-status').textContent()).toContain(number(segment.size + 1));
    await context.close();
    await everyView('segment-detail', `/console/segments/${segment.id}`, '[data-testid="member-row"]');
  });

  it('deletes a custom segment only after the confirmation', async () => {
    const created = await api<Segment>('/v1/segments', {
      method: 'POST',
      body: { name: 'Khách cần xóa', rule: { stat: 'orders', gte: 5 } },
    });
    const { context, page } = await rig.open({ path: `/console/segments/${created.body.id}`, key: rig.cdp.adminKey });
    await page.getByTestId('delete-segment').click();
    await page.getByRole('button', { name: vi.segments.remove.cancel }).click();
    expect((await api(`/v1/segments/${created.body.id}`)).status).toBe(200);
    await page.getByTestId('delete-segment').click();
    await page.getByTestId('confirm-delete').click();
    await page.waitForURL(/\/console\/segments$/);
    expect((await api(`/v1/segments/${created.body.id}`)).status).toBe(404);
    await page.locator('[data-testid^="segment-size-"]').first().waitFor();
    expect(await page.getByTestId(`segment-row-${created.body.id}`).count()).toBe(0);
    await context.close();
  });
});

describe('a key without the scope', () => {
  it('says in Vietnamese which permission a read key lacks to delete a segment, and deletes nothing', async () => {
    const created = await api<Segment>('/v1/segments', {
      method: 'POST',
      body: { name: 'Khách giữ lại', rule: { stat: 'orders', gte: 5 } },
    });
    const { context, page } = await rig.open({ path: `/console/segments/${created.body.id}` });
    await page.getByTestId('delete-segment').click();
    await page.getByTestId('confirm-delete').click();
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent().catch(() => ''), soon)
      .toContain(vi.common.states.forbidden.replace('{{scope}}', 'segments:write'));
    expect((await api(`/v1/segments/${created.body.id}`)).status).toBe(200);
    await checkView(page, 'segment-delete-forbidden-vi-1280', 'vi');
    await context.close();
  });
});

describe('Customer 360', () => {
  it('finds a customer by a phone typed the Vietnamese way and shows the first page of their timeline', async () => {
    const { body } = await api<SegmentList>('/v1/segments');
    const members = (
      await api<MembersPage>(
        `/v1/segments/${body.segments.find((segment) => segment.id === 'rfm-loyal')?.id ?? body.segments[0]?.id}/members?limit=100`,
      )
    ).body;
    const phone = members.members
      .flatMap((member) => member.phones)
      .find((value) => /^\+84\d{9}$/.test(value)) as string;
    expect(phone).toBeDefined();
    const national = phone.slice(3);
    const typed = `0${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`;
    const profile = (
      await api<{ traits: { name?: string }; stats: { orders: number } }>(
        `/v1/profiles/phone:${encodeURIComponent(phone)}`,
      )
    ).body;
    const timeline = (
      await api<{ events: unknown[] }>(`/v1/profiles/phone:${encodeURIComponent(phone)}/events?limit=25`)
    ).body;

    const { context, page } = await rig.open({ path: '/console/customers' });
    await page.getByTestId('customer-query').fill(typed);
    await page.getByTestId('customer-query').press('Enter');
    await page.waitForURL((url) => url.pathname === `/console/customers/phone:${encodeURIComponent(phone)}`);
    await expect.poll(() => page.getByTestId('timeline-entry').count(), soon).toBe(timeline.events.length);
    expect(await page.getByTestId('matched-by').textContent()).toContain(phone);
    expect(await page.getByTestId('customer-name').textContent()).toBe(profile.traits.name);
    expect(await page.locator('[data-testid="stat-orders"] dd').textContent()).toBe(number(profile.stats.orders));
    await context.close();
    await everyView('customer', `/console/customers?q=${encodeURIComponent(typed)}`, '[data-testid="timeline-entry"]');
  });

  it('says clearly that nobody has the identifier, and what was tried', async () => {
    const query = 'khong-ai-co@example.com';
    expect((await api(`/v1/profiles/email:${query}`)).status).toBe(404);
    const { context, page } = await rig.open({ path: '/console/customers' });
    await page.getByTestId('customer-query').fill(query);
    await page.getByRole('button', { name: vi.customers.search.submit }).click();
    const notFound = page.getByTestId('not-found');
    await notFound.waitFor();
    const text = await notFound.textContent();
    expect(text).toContain(vi.customers.search.notFound.replace('{{query}}', query));
    for (const type of ['email', 'user_id', 'anonymous_id'] as const) expect(text).toContain(vi.customers.types[type]);
    await context.close();
    await everyView(
      'customer-not-found',
      `/console/customers?q=${encodeURIComponent(query)}`,
      '[data-testid="not-found"]',
    );
  });
});
