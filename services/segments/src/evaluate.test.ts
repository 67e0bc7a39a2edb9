// An evaluation's changes read back page by page against real chDB: every change published once and stored, whether
// one segment's diff is read (by profile id) or several segments' (by segment, then profile id), also where one
// segment id begins another.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClickHouse,
  migrate,
  named,
  openEmbeddedLog,
  tabSeparated,
  waitFor,
  type ClickHouse,
  type EventLog,
} from '@cdp/runtime';
import { clickhouseMigrationsDir, decodeSegmentChange, type SegmentChange } from '@cdp/schemas';
import { evaluateSegments } from './evaluate';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-segments-evaluate-'));
let clickhouse: ClickHouse;
let log: EventLog;
const published: SegmentChange[] = [];

beforeAll(async () => {
  clickhouse = await createClickHouse(
    {
      url: null,
      database: `evaluate_${randomUUID().replaceAll('-', '')}`,
      chdbPath: path.join(dir, 'clickhouse'),
      requireNames: true,
    },
    logger,
  );
  await migrate(clickhouse.client, clickhouseMigrationsDir, logger);
  log = await openEmbeddedLog({ dir: path.join(dir, 'log'), logger, pollIntervalMs: 50 });
  await log.ensureTopics([{ name: 'changes', partitions: 3 }]);
  await log.consume({
    groupId: 'test',
    topics: ['changes'],
    handleBatch: async (batch) =>
      void published.push(...batch.records.map((record) => decodeSegmentChange(record.value))),
  });
}, 120_000);

afterAll(async () => {
  await log?.close();
  await clickhouse?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Members of each segment now, as segment_membership says (the latest row of each decides). */
async function membersNow(segmentIds: string[]): Promise<string[]> {
  const result = await clickhouse.client.query(
    named('test.members', {
      query: `SELECT segment_id, profile_id FROM segment_membership WHERE segment_id IN {segmentIds:Array(String)}
        GROUP BY segment_id, profile_id HAVING argMax(is_member, version) = 1 ORDER BY segment_id, profile_id`,
      query_params: { segmentIds },
      format: 'JSONEachRow',
    }),
  );
  return (await result.json<{ segment_id: string; profile_id: string }>()).map(
    (row) => `${row.segment_id}/${row.profile_id}`,
  );
}

/** `count` members of each segment, stored as an earlier evaluation (version 1) left them. */
async function seedMembers(segmentIds: string[], count: number): Promise<string[]> {
  const rows = segmentIds.flatMap((segmentId) =>
    Array.from({ length: count }, (_, index): [string, string] => [segmentId, `prf_${String(index).padStart(3, '0')}`]),
  );
  await clickhouse.client.insert(
    named('test.seedMembers', {
      table: 'segment_membership',
      columns: ['segment_id', 'profile_id', 'is_member', 'entered_at', 'changed_at', 'version'],
      format: 'TabSeparated',
      values: tabSeparated(
        rows.map(([segmentId, profileId]) => [
          segmentId,
          profileId,
          1,
          '2026-01-01 00:00:00.000',
          '2026-01-01 00:00:00.000',
          1,
        ]),
      ),
    }),
  );
  return rows.map(([segmentId, profileId]) => `${segmentId}/${profileId}`);
}

describe('evaluateSegments reading its changes in pages', () => {
  it.each([
    { name: 'several segments, by segment and profile id', segmentIds: ['seg_a', 'seg_ab', 'seg_b'] },
    { name: 'one segment, by profile id', segmentIds: ['seg_one'] },
    { name: 'several segments, the last page ending on the last change', segmentIds: ['seg_c', 'seg_d'], count: 25 },
  ])('publishes and stores every change once: $name', async ({ segmentIds, count = 23 }) => {
    const members = await seedMembers(segmentIds, count);
    expect(await membersNow(segmentIds)).toEqual(members);
    const before = published.length;
    // Deleted segments: every member exits. Pages of 5 end inside a segment, and with 25 changes on the last one.
    const result = await evaluateSegments(
      { clickhouse: clickhouse.client, log, changesTopic: 'changes' },
      segmentIds.map((segmentId) => ({ segmentId, rule: null })),
      { now: Date.UTC(2026, 5, 1), version: 2, pass: null, pageSize: 5 },
    );
    expect(result).toEqual({ entered: 0, exited: members.length });
    await waitFor(() => published.length - before >= members.length, { what: 'every change consumed' });
    const changes = published.slice(before);
    expect(changes.map((change) => `${change.segmentId}/${change.profileId}`).sort()).toEqual(members);
    expect(new Set(changes.map((change) => change.change))).toEqual(new Set(['exited']));
    expect(changes.every((change) => change.enteredAt === Date.UTC(2026, 0, 1) && change.version === 2)).toBe(true);
    expect(await membersNow(segmentIds)).toEqual([]);
  });
});

describe('evaluateSegments of a segment no evaluation decided yet', () => {
  it('enters every member but those a later evaluation decided, then diffs against what it stored', async () => {
    const pass = { id: 10, traitKeys: [], behaviours: [] };
    const profileIds = Array.from({ length: 10 }, (_, index) => `prf_${String(index).padStart(3, '0')}`);
    // Pass 10 holds ten profiles with 0–9 orders; pass 11, of a later evaluation, decided prf_008.
    await clickhouse.client.insert(
      named('test.seedPasses', {
        table: 'segment_profiles',
        values: [
          ...profileIds.map((profileId, index) => ({ pass: 10, profile_id: profileId, stat_orders: index })),
          { pass: 11, profile_id: 'prf_008', stat_orders: 8 },
        ],
        format: 'JSONEachRow',
      }),
    );
    // The names of the commands the evaluations send: which way each diff went.
    const commands: string[] = [];
    const client = clickhouse.client;
    const recording = new Proxy(client, {
      get(target, property) {
        if (property === 'command')
          return (params: Parameters<typeof client.command>[0]) => {
            commands.push(String(params.clickhouse_settings?.log_comment ?? ''));
            return target.command(params);
          };
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const deps = { clickhouse: recording, log, changesTopic: 'changes' };
    const segmentId = 'seg_new';
    const before = published.length;
    const first = await evaluateSegments(deps, [{ segmentId, rule: { stat: 'orders', gte: 5 } }], {
      now: Date.UTC(2026, 5, 1),
      version: 12,
      pass,
      decidedAfter: [11],
    });
    expect(first).toEqual({ entered: 4, exited: 0 });
    expect(commands.filter((name) => name.endsWith('Members'))).toEqual(['segments.enterMembers']);
    const entered = ['prf_005', 'prf_006', 'prf_007', 'prf_009'].map((profileId) => `${segmentId}/${profileId}`);
    expect(await membersNow([segmentId])).toEqual(entered);
    await waitFor(() => published.length - before >= 4, { what: 'the entries consumed' });
    const entries = published.slice(before);
    expect(entries.map((change) => `${change.segmentId}/${change.profileId}`).sort()).toEqual(entered);
    expect(
      entries.every(
        (change) => change.change === 'entered' && change.enteredAt === Date.UTC(2026, 5, 1) && change.version === 12,
      ),
    ).toBe(true);

    // Decided now: the next evaluation meets the members with what the first stored.
    const second = await evaluateSegments(deps, [{ segmentId, rule: { stat: 'orders', gte: 7 } }], {
      now: Date.UTC(2026, 5, 2),
      version: 13,
      pass,
    });
    expect(second).toEqual({ entered: 1, exited: 2 });
    expect(commands.filter((name) => name.endsWith('Members'))).toEqual([
      'segments.enterMembers',
      'segments.diffMembers',
    ]);
    expect(await membersNow([segmentId])).toEqual(
      ['prf_007', 'prf_008', 'prf_009'].map((profileId) => `${segmentId}/${profileId}`),
    );
  });
});
