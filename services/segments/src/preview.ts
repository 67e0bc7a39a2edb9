// Counting a rule's members and taking a sample without saving it.
import { named, type ClickHouseClient } from '@cdp/runtime';
import type { SegmentRule } from '@cdp/schemas';
import { compileRule } from './compile';
import { latestPass, passExists } from './passes';

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
export async function previewRule(
  client: ClickHouseClient,
  rule: SegmentRule,
  options: { now: number; sampleSize: number },
): Promise<Preview> {
  for (let attempt = 1; ; attempt += 1) {
    const pass = await latestPass(client);
    const compiled = compileRule(rule, { now: options.now, pass });
    const result = await client.query(
      named('segments.previewRule', {
        query: `SELECT count() AS count, groupArraySorted({sampleSize:UInt32})(profile_id) AS sample FROM (${compiled.sql})`,
        query_params: { ...compiled.params, sampleSize: options.sampleSize },
        format: 'JSONEachRow',
      }),
    );
    const [row] = await result.json<{ count: number; sample: string[] }>();
    if (attempt < 3 && pass && !(await passExists(client, pass.id))) continue;
    return { count: Number(row?.count ?? 0), sample: row?.sample ?? [] };
  }
}
