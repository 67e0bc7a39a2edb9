// The timer store against real chDB: a page of follow-ups is checked for awaited events in one read, and each timer
// is matched against its own window, keys, destination, rule and match value, not the page's union of them.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, migrate, type ClickHouse } from '@cdp/runtime';
import { clickhouseMigrationsDir } from '@cdp/schemas';
import type { Timer } from './schedule';
import { createTimerStore } from './timers';

const logger = pino({ level: 'silent' });
const chdbPath = mkdtempSync(path.join(os.tmpdir(), 'cdp-destination-timers-chdb-'));
let clickhouse: ClickHouse;

beforeAll(async () => {
  clickhouse = await createClickHouse(
    { url: null, database: `destination_timers_${randomUUID().replaceAll('-', '')}`, chdbPath, requireNames: true },
    logger,
  );
  await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
}, 120_000);

afterAll(async () => {
  await clickhouse?.close();
  rmSync(chdbPath, { recursive: true, force: true });
});

const t0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const minutes = (count: number) => count * 60_000;

const timer = (fields: Partial<Timer> & Pick<Timer, 'timerId'>): Timer => ({
  kind: 'follow_up',
  destinationId: 'dst_a',
  rule: 'rule_survey',
  profileId: '',
  identifiers: [],
  matchValue: '',
  trigger: null,
  startedAt: t0,
  dueAt: t0 + minutes(10),
  status: 'pending',
  reason: '',
  ...fields,
});

describe('awaitedAmong', () => {
  it("cancels the follow-ups an awaited event falls within, by each timer's own window, keys and match value", async () => {
    const timers = createTimerStore(clickhouse.client);
    const awaited = (timerId: string, at: number, identifiers: string[], fields: Partial<Timer> = {}) =>
      timer({ timerId, kind: 'awaited', identifiers, startedAt: at, dueAt: at, status: 'seen', ...fields });
    await timers.schedule([
      awaited('awt_1', t0 + minutes(5), ['user_id:an']),
      awaited('awt_2', t0 + minutes(5), ['anonymous_id:hoa-phone']),
      awaited('awt_3', t0 + minutes(5), ['user_id:minh'], { matchValue: '"ticket-1"' }),
      awaited('awt_4', t0 + minutes(5), ['user_id:lan'], { rule: 'rule_other' }),
      awaited('awt_5', t0 + minutes(5), ['user_id:tuan'], { destinationId: 'dst_b' }),
    ]);
    const page = [
      // Answered within its window.
      timer({ timerId: 'tmr_an', identifiers: ['user_id:an'] }),
      // The same customer's later order: the answer came before this one started (inside the page's union window).
      timer({
        timerId: 'tmr_an_later',
        identifiers: ['user_id:an'],
        startedAt: t0 + minutes(20),
        dueAt: t0 + minutes(30),
      }),
      // Answered from an identifier of the profile, not of the order's event.
      timer({ timerId: 'tmr_hoa', identifiers: ['user_id:hoa'] }),
      // Another ticket's reply does not cancel this ticket's SLA.
      timer({ timerId: 'tmr_minh', identifiers: ['user_id:minh'], matchValue: '"ticket-2"' }),
      timer({ timerId: 'tmr_minh_same', identifiers: ['user_id:minh'], matchValue: '"ticket-1"' }),
      // Another rule's or another destination's awaited event does not count.
      timer({ timerId: 'tmr_lan', identifiers: ['user_id:lan'] }),
      timer({ timerId: 'tmr_tuan', identifiers: ['user_id:tuan'] }),
      // Nobody answered.
      timer({ timerId: 'tmr_quiet', identifiers: ['user_id:quiet'] }),
    ];
    const keys = page.map((one) =>
      one.timerId === 'tmr_hoa' ? ['user_id:hoa', 'anonymous_id:hoa-phone'] : one.identifiers,
    );
    expect([...(await timers.awaitedAmong(page, keys))].sort()).toEqual(['tmr_an', 'tmr_hoa', 'tmr_minh_same']);
    // Without the profile's identifiers, the anonymous answer is not this customer's.
    expect(
      [
        ...(await timers.awaitedAmong(
          page,
          page.map((one) => one.identifiers),
        )),
      ].sort(),
    ).toEqual(['tmr_an', 'tmr_minh_same']);
    expect(await timers.awaitedAmong([], [])).toEqual(new Set());
  });
});
