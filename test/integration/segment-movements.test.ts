// What the latest evaluation says besides membership: entries and exits per segment, and the RFM grid, counted as stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { named, toClickHouseTime, waitFor } from '@cdp/runtime';
import { read } from '../harness/http';
import { startTestPlatform, uniqueName, type TestPlatform } from '../harness/platform';

interface Membership {
  segment: string;
  profile: string;
  isMember: 0 | 1;
  version: number;
}

describe('the latest evaluation pass on the embedded runtime', () => {
  let cdp: TestPlatform;
  const insert = (table: string, values: Array<Record<string, unknown>>) =>
    cdp.platform.clickhouse.client.insert(named('test.insertRows', { table, values, format: 'JSONEachRow' }));
  const list = async () =>
    (await read(cdp.url, '/v1/segments', cdp.readKey)).body as {
      evaluatedAt: string | null;
      segments: Array<{ id: string; entered: number; exited: number }>;
    };

  beforeAll(async () => {
    // One evaluation at start, then none for an hour: the pass this test writes stays the latest.
    cdp = await startTestPlatform('embedded', { CDP_SEGMENTS_INTERVAL_MS: '3600000' });
    await waitFor(async () => (await list()).evaluatedAt !== null, { timeoutMs: 30_000, what: 'the first evaluation' });
  }, 120_000);
  afterAll(async () => {
    await cdp?.close();
  });

  it('counts who entered and left each segment in the latest pass, each profile once, and no earlier change', async () => {
    const pass = Date.now() + 60_000;
    const custom = uniqueName('seg');
    const rows: Membership[] = [
      ...['a', 'b', 'c'].map((profile) => ({ segment: 'lifecycle-new', profile, isMember: 1 as const, version: pass })),
      ...['d', 'e'].map((profile) => ({ segment: 'lifecycle-new', profile, isMember: 0 as const, version: pass })),
      // A store retried after a crash writes the same row again.
      { segment: 'lifecycle-new', profile: 'a', isMember: 1, version: pass },
      { segment: custom, profile: 'f', isMember: 0, version: pass },
      // Changes of earlier passes are not this pass's movements.
      { segment: 'lifecycle-new', profile: 'g', isMember: 1, version: pass - 5000 },
      { segment: 'rfm-loyal', profile: 'h', isMember: 1, version: pass - 5000 },
    ];
    const at = toClickHouseTime(pass);
    await insert(
      'segment_membership',
      rows.map((row) => ({
        segment_id: row.segment,
        profile_id: row.profile,
        is_member: row.isMember,
        entered_at: at,
        changed_at: at,
        version: row.version,
      })),
    );
    await insert('segment_profiles', [{ pass, profile_id: '' }]);
    await insert('segment_profile_passes', [{ pass, trait_keys: [], behaviours: [], rolled_up_at: at }]);
    // A pass built but not yet evaluated for every segment dates nothing: its changes may still be being stored.
    const before = await list();
    expect(before.evaluatedAt).not.toBeNull();
    expect(Date.parse(before.evaluatedAt!)).toBeLessThan(pass);
    await insert('segment_evaluations', [{ pass, finished_at: at }]);

    const expected = new Map<string, { entered: number; exited: number }>();
    for (const row of rows.filter((candidate) => candidate.version === pass)) {
      const counts = expected.get(row.segment) ?? { entered: 0, exited: 0 };
      const same = rows.filter(
        (other) => other.version === pass && other.segment === row.segment && other.profile === row.profile,
      );
      if (same[0] === row) counts[row.isMember === 1 ? 'entered' : 'exited'] += 1;
      expected.set(row.segment, counts);
    }
    const answer = await list();
    expect(answer.evaluatedAt).toBe(new Date(pass).toISOString());
    for (const segment of answer.segments) {
      expect({ id: segment.id, entered: segment.entered, exited: segment.exited }).toEqual({
        id: segment.id,
        ...(expected.get(segment.id) ?? { entered: 0, exited: 0 }),
      });
    }
    expect(answer.segments.find((segment) => segment.id === 'lifecycle-new')).toMatchObject({ entered: 3, exited: 2 });
    expect((await read(cdp.url, '/v1/segments/lifecycle-new', cdp.readKey)).body).toMatchObject({
      entered: 3,
      exited: 2,
      evaluatedAt: new Date(pass).toISOString(),
    });
  });

  it('grids the customers of the latest pass by RFM recency and frequency, leaving out profiles without an order', async () => {
    const pass = Date.now() + 120_000;
    const scored = Array.from({ length: 60 }, (_, index) => ({
      profile_id: `prf_grid_${index}`,
      stat_rfm_recency: index % 7 === 0 ? null : (index % 5) + 1,
      stat_rfm_frequency: index % 7 === 0 ? null : (Math.floor(index / 5) % 5) + 1,
    }));
    await insert('segment_profiles', [{ pass, profile_id: '' }, ...scored.map((row) => ({ pass, ...row }))]);
    await insert('segment_profile_passes', [
      { pass, trait_keys: [], behaviours: [], rolled_up_at: toClickHouseTime(pass) },
    ]);

    const cells = new Map<string, number>();
    for (const row of scored) {
      if (row.stat_rfm_recency === null || row.stat_rfm_frequency === null) continue;
      const key = `${row.stat_rfm_recency}/${row.stat_rfm_frequency}`;
      cells.set(key, (cells.get(key) ?? 0) + 1);
    }
    const expectedCells = [...cells.entries()]
      .map(([key, customers]) => ({
        recency: Number(key.split('/')[0]),
        frequency: Number(key.split('/')[1]),
        customers,
      }))
      .sort((a, b) => a.recency - b.recency || a.frequency - b.frequency);
    const grid = (await read(cdp.url, '/v1/analytics/rfm', cdp.readKey)).body;
    expect(grid).toEqual({
      evaluatedAt: new Date(pass).toISOString(),
      customers: scored.filter((row) => row.stat_rfm_recency !== null).length,
      cells: expectedCells,
    });
    expect((await read(cdp.url, '/v1/analytics/rfm')).status).toBe(401);
  });
});
