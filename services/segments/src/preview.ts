// Counting a rule's members and taking a sample without saving it, and reading a profile's current segments.
import type { ClickHouseClient } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';
import { compileRule } from './compile';
import { latestSnapshot, snapshotExists } from './profiles';

export interface Preview {
  count: number;
  /** Up to `sampleSize` member profile ids, smallest first. */
  sample: string[];
}

/**
 * Stats and the traits current rules name come from the last evaluation's profiles (rolled up live before the first
 * one); other traits and behaviour conditions are read from the current data. A pass an evaluator dropped while it
 * was read (see evaluateSegment) is read again at the newer one, up to three times.
 */
export async function previewRule(client: ClickHouseClient, rule: SegmentRule, options: { now: number; sampleSize: number }): Promise<Preview> {
  for (let attempt = 1; ; attempt += 1) {
    const snapshot = await latestSnapshot(client);
    const compiled = compileRule(rule, { now: options.now, snapshot });
    const result = await client.query({
      query: `SELECT count() AS count, groupArraySorted({sampleSize:UInt32})(profile_id) AS sample FROM (${compiled.sql})`,
      query_params: { ...compiled.params, sampleSize: options.sampleSize },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ count: number; sample: string[] }>();
    if (attempt < 3 && snapshot && !(await snapshotExists(client, snapshot.pass))) continue;
    return { count: Number(row?.count ?? 0), sample: row?.sample ?? [] };
  }
}

/** Ids of the live segments the survivor profile is a member of now, as the last evaluation left them. */
export async function segmentsOfProfile(client: ClickHouseClient, profileId: string): Promise<string[]> {
  const result = await client.query({
    query: `SELECT segment_id FROM segment_membership FINAL
      WHERE profile_id = {profileId:String} AND is_member = 1
        AND segment_id IN (SELECT id FROM segments FINAL WHERE deleted = 0)
      ORDER BY segment_id`,
    query_params: { profileId },
    format: 'JSONEachRow',
  });
  return (await result.json<{ segment_id: string }>()).map((row) => row.segment_id);
}
