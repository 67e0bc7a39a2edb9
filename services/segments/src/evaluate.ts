// One evaluation of one segment: diff its members now against segment_membership, publish the changes, then store them.
import { toClickHouseTime, type ClickHouseClient, type EventLog } from '@cdp/runtime';
import { encodeSegmentChange, type SegmentChange, type SegmentRule } from '@cdp/schemas';
import { compileRule } from './compile';

export interface EvaluationResult {
  entered: number;
  exited: number;
}

export interface EvaluationTarget {
  segmentId: string;
  /** Null for a deleted segment: every current member exits. */
  rule: SegmentRule | null;
}

/** Changes are published and stored this many at a time, so a large first evaluation streams in flat memory. */
const chunkSize = 5000;

const current = `SELECT profile_id, entered_at FROM segment_membership FINAL WHERE segment_id = {segmentId:String} AND is_member = 1`;

/**
 * New members (not current) and leavers (current, not members now), computed in ClickHouse, never in memory. The
 * rule's query is read once: both sides go through one GROUP BY, since running it again for the leavers would double
 * the cost of every evaluation.
 */
const diffQuery = (members: string) => `
  SELECT profile_id, member_now AS is_member,
    if(member_now = 1, toString({now:DateTime64(3, 'UTC')}), toString(stay_began)) AS entered_at
  FROM (
    SELECT profile_id, max(now_side) AS member_now, max(current_side) AS member_before, max(began) AS stay_began
    FROM (
      SELECT profile_id, toUInt8(1) AS now_side, toUInt8(0) AS current_side, toDateTime64(0, 3, 'UTC') AS began FROM (${members})
      UNION ALL
      SELECT profile_id, toUInt8(0), toUInt8(1), entered_at FROM (${current})
    )
    GROUP BY profile_id
  )
  WHERE member_now != member_before`;

const noMembers = `SELECT profile_id FROM (SELECT '' AS profile_id) WHERE 0`;

interface DiffRow {
  profile_id: string;
  is_member: number;
  entered_at: string;
}

/**
 * Publishes each chunk of changes before storing it: a crash in between publishes those changes again on the next
 * evaluation (at least once), where storing first could lose them for good.
 */
export async function evaluateSegment(
  deps: { clickhouse: ClickHouseClient; log: EventLog; changesTopic: string },
  target: EvaluationTarget,
  options: { now: number; version: number },
): Promise<EvaluationResult> {
  const compiled = target.rule ? compileRule(target.rule, { now: options.now }) : { sql: noMembers, params: { now: toClickHouseTime(options.now) } };
  const result = await deps.clickhouse.query({
    query: diffQuery(compiled.sql),
    query_params: { ...compiled.params, segmentId: target.segmentId },
    format: 'JSONEachRow',
  });
  const counts: EvaluationResult = { entered: 0, exited: 0 };
  let chunk: DiffRow[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const rows = chunk;
    chunk = [];
    const changes: SegmentChange[] = rows.map((row) => ({
      segmentId: target.segmentId,
      profileId: row.profile_id,
      change: Number(row.is_member) === 1 ? 'entered' : 'exited',
      at: options.now,
      enteredAt: Date.parse(`${row.entered_at.replace(' ', 'T')}Z`),
      version: options.version,
    }));
    await deps.log.produce(
      deps.changesTopic,
      changes.map((change) => ({ key: change.profileId, value: encodeSegmentChange(change), headers: { segmentId: change.segmentId, change: change.change } })),
    );
    await deps.clickhouse.insert({
      table: 'segment_membership',
      values: rows.map((row) => ({
        segment_id: target.segmentId,
        profile_id: row.profile_id,
        is_member: Number(row.is_member),
        entered_at: row.entered_at,
        changed_at: toClickHouseTime(options.now),
        version: options.version,
      })),
      format: 'JSONEachRow',
    });
    for (const change of changes) counts[change.change] += 1;
  };
  for await (const rows of result.stream<DiffRow>()) {
    for (const row of rows) {
      chunk.push(row.json());
      if (chunk.length >= chunkSize) await flush();
    }
  }
  await flush();
  return counts;
}
