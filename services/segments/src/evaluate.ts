// One evaluation of segments: diff their members now against segment_membership, publish the changes, then store them.
import { anyDecided, decisionsOf, decisionsOfMany, storeMembershipChanges } from '@cdp/profiles';
import {
  named,
  pagesInKeyOrder,
  tabSeparatedFields,
  tabSeparatedRawLines,
  toClickHouseTime,
  type ClickHouseClient,
  type EventLog,
} from '@cdp/runtime';
import { encodeSegmentChanges, type SegmentChange, type SegmentRule } from '@cdp/schemas';
import { compileRule } from './compile';
import { passExists, type Pass } from './passes';

export interface EvaluationResult {
  entered: number;
  exited: number;
}

export interface EvaluationTarget {
  segmentId: string;
  /** Null for a deleted segment: every current member exits. */
  rule: SegmentRule | null;
}

export interface EvaluationOptions {
  now: number;
  version: number;
  pass: Pass | null;
  /**
   * Only these stored profile ids' membership is decided (changed survivors and the ids they absorbed), the pass
   * holding just those survivors; every profile's when absent.
   */
  scope?: string[];
  /**
   * Passes (of segment_profiles) of profiles evaluated after this one began: they are left as those decided, also
   * where the decision changed nothing and wrote no row for the version guard to see.
   */
  decidedAfter?: number[];
  /** Changes read back per page (default 50,000); a test reads small pages to cross their edges. */
  pageSize?: number;
}

/** Changes are read back this many at a time, by (segment, profile), so a first evaluation streams in flat memory. */
const pageSize = 50_000;
/**
 * And produced this many at a time: kafkajs sends a partition's share of one produce call as one batch, and 5000
 * changes (about 200 bytes each) spread over the partitions stay well under a broker's default 1 MB message limit.
 */
const produceSize = 5000;

/**
 * New members (not current) and leavers (current, not members now) of every segment in `members` (segment_id,
 * profile_id), computed in ClickHouse and kept in segment_diffs under the evaluation's version. The rule's query is
 * read once: both sides go through one GROUP BY, since running it again for the leavers would double the cost of
 * every evaluation. A profile whose membership a later evaluation decided (a change followed while this pass ran) is
 * left as that one decided: this one read older data. `decisions` are the latest membership rows this evaluation may
 * change: the segment's, or those of the profiles it looked at.
 */
// One segment groups by profile id alone (a third faster than by segment and profile on 1M profiles).
const diffInto = (members: string, decisions: string, single: boolean, decidedAfter: boolean) => `
  INSERT INTO segment_diffs (pass, segment_id, profile_id, is_member, entered_at)
  SELECT {version:UInt64}, segment_id, profile_id, member_now, if(member_now = 1, {now:DateTime64(3, 'UTC')}, stay_began)
  FROM (
    SELECT ${single ? '{segment0:String} AS segment_id' : 'segment_id'}, profile_id, max(now_side) AS member_now, max(current_side) AS member_before,
      max(began) AS stay_began, max(decided) AS decided_by
    FROM (
      SELECT segment_id, profile_id, toUInt8(1) AS now_side, toUInt8(0) AS current_side, toDateTime64(0, 3, 'UTC') AS began, toUInt64(0) AS decided
      FROM (${members})
      UNION ALL
      SELECT segment_id, profile_id, toUInt8(0), is_member, entered_at, version FROM ${decisions}
    )
    GROUP BY ${single ? 'profile_id' : 'segment_id, profile_id'}
  )
  WHERE member_now != member_before AND decided_by < {version:UInt64}
    ${decidedAfter ? 'AND profile_id NOT IN (SELECT profile_id FROM segment_profiles WHERE pass IN {decidedAfter:Array(UInt64)})' : ''}`;

// Segments no evaluation decided yet (a store's first pass, a new segment): every member enters and nobody leaves, so
// the members go in as they are, without the GROUP BY that meets them with decisions (a pass's rows hold each profile
// once). Profiles a later evaluation decided are left to it here too.
const enterInto = (members: string, decidedAfter: boolean) => `
  INSERT INTO segment_diffs (pass, segment_id, profile_id, is_member, entered_at)
  SELECT {version:UInt64}, segment_id, profile_id, 1, {now:DateTime64(3, 'UTC')}
  FROM (${members})
  ${decidedAfter ? 'WHERE profile_id NOT IN (SELECT profile_id FROM segment_profiles WHERE pass IN {decidedAfter:Array(UInt64)})' : ''}`;

const ofThisDiff = `FROM segment_diffs WHERE pass = {version:UInt64} AND segment_id IN {segmentIds:Array(String)}`;
const thisDiff = `(SELECT segment_id, profile_id, is_member, entered_at ${ofThisDiff})`;
// Epoch milliseconds, not text: parsing a date a change costs more than the rest of reading it. Pages go on where the
// last ended: by profile id within one segment (the table's order), by segment and profile id over several. Read as
// TabSeparated lines, not JSON objects: a first pass reads millions.
const onePage = `
  SELECT segment_id, profile_id, is_member, toUnixTimestamp64Milli(entered_at)
  ${ofThisDiff} AND profile_id > {after:String} ORDER BY segment_id, profile_id LIMIT {limit:UInt32}`;
const manyPage = `
  SELECT segment_id, profile_id, is_member, toUnixTimestamp64Milli(entered_at)
  ${ofThisDiff} AND (segment_id, profile_id) > ({afterSegment:String}, {after:String})
  ORDER BY segment_id, profile_id LIMIT {limit:UInt32}`;

const noMembers = `SELECT profile_id FROM (SELECT '' AS profile_id) WHERE 0`;

/**
 * Evaluates one segment, or several in one diff (a few changed profiles against every segment: one query instead of
 * one per segment). Publishes every change before storing any: a crash in between publishes them again on the next
 * evaluation (at least once), where storing first could lose them for good. Both sides read the diff ClickHouse kept,
 * so what is stored is what was published, and storing is one INSERT … SELECT instead of sending the rows back.
 */
export async function evaluateSegments(
  deps: { clickhouse: ClickHouseClient; log: EventLog; changesTopic: string },
  targets: EvaluationTarget[],
  options: EvaluationOptions,
): Promise<EvaluationResult> {
  const params: Record<string, unknown> = {
    now: toClickHouseTime(options.now),
    version: options.version,
    segmentIds: targets.map((target) => target.segmentId),
    scope: options.scope ?? [],
    decidedAfter: options.decidedAfter ?? [],
  };
  // Each rule binds its values under a prefix of its own, so every rule's parameters meet in one query.
  const members = targets.map((target, index) => {
    const compiled = target.rule
      ? compileRule(target.rule, { now: options.now, pass: options.pass, paramPrefix: `s${index}_` })
      : { sql: noMembers, params: {} };
    Object.assign(params, compiled.params, { [`segment${index}`]: target.segmentId });
    return `SELECT {segment${index}:String} AS segment_id, profile_id FROM (${compiled.sql})`;
  });
  const decisions =
    targets.length === 1 && !options.scope
      ? decisionsOf('{segment0:String}')
      : decisionsOfMany('{segmentIds:Array(String)}', options.scope ? '{scope:Array(String)}' : undefined);
  const decidedAfter = (options.decidedAfter ?? []).length > 0;
  // Asked by full passes only (a few changed profiles meet segments decided long ago), and only where every target
  // has a rule: a deleted segment's members leave.
  const undecided =
    !options.scope &&
    targets.every((target) => target.rule) &&
    !(await anyDecided(
      deps.clickhouse,
      targets.map((target) => target.segmentId),
    ));
  await deps.clickhouse.command(
    named(undecided ? 'segments.enterMembers' : 'segments.diffMembers', {
      query: undecided
        ? enterInto(members.join(' UNION ALL '), decidedAfter)
        : diffInto(members.join(' UNION ALL '), decisions, targets.length === 1, decidedAfter),
      query_params: params,
    }),
  );
  // A newer evaluator drops old passes, and a dropped pass never comes back: if the pass's profiles are still there
  // once the diff is computed, the diff read all of them, not an empty universe that would make every member exit.
  if (targets.some((target) => target.rule) && options.pass && !(await passExists(deps.clickhouse, options.pass.id))) {
    throw new Error('a newer evaluation dropped this pass while its members were read');
  }
  const counts: EvaluationResult = { entered: 0, exited: 0 };
  // A page's position: its last change's profile id, after its segment id and a NUL over several segments.
  const read = async (after: string, limit: number): Promise<string[]> => {
    // Segment ids hold no NUL: the first one ends the segment id, whatever the profile id holds.
    const cut = after.indexOf('\0');
    const [afterSegment, afterProfile] = cut === -1 ? [after, ''] : [after.slice(0, cut), after.slice(cut + 1)];
    const result = await deps.clickhouse.query(
      named('segments.readDiffPage', {
        query: targets.length === 1 ? onePage : manyPage,
        query_params: { ...params, afterSegment, after: targets.length === 1 ? after : afterProfile, limit },
        format: 'TabSeparated',
      }),
    );
    return tabSeparatedRawLines(await result.text());
  };
  const positionOf = (line: string) => {
    const [segmentId = '', profileId = ''] = tabSeparatedFields(line);
    return targets.length === 1 ? profileId : `${segmentId}\0${profileId}`;
  };
  // Records of one segment and kind share one headers object: the log encodes a shared one once.
  const headers = new Map(
    targets.map(({ segmentId }) => [
      segmentId,
      { entered: { segmentId, change: 'entered' }, exited: { segmentId, change: 'exited' } },
    ]),
  );
  for await (const lines of pagesInKeyOrder(read, positionOf, options.pageSize ?? pageSize)) {
    // A page's lines become changes a produce call at a time: fewer objects alive at once, less for the collector.
    for (let start = 0; start < lines.length; start += produceSize) {
      const changes = lines.slice(start, start + produceSize).map((line): SegmentChange => {
        const [segmentId = '', profileId = '', isMember, enteredAt] = tabSeparatedFields(line);
        return {
          segmentId,
          profileId,
          change: isMember === '1' ? 'entered' : 'exited',
          at: options.now,
          enteredAt: Number(enteredAt),
          version: options.version,
        };
      });
      const values = encodeSegmentChanges(changes);
      await deps.log.produce(
        deps.changesTopic,
        changes.map((change, index) => ({
          key: change.profileId,
          value: values[index] as Buffer,
          headers: headers.get(change.segmentId)![change.change],
        })),
      );
      for (const change of changes) counts[change.change] += 1;
    }
  }
  if (counts.entered + counts.exited > 0) await storeMembershipChanges(deps.clickhouse, thisDiff, params);
  return counts;
}

/** One segment's evaluation (see evaluateSegments). */
export const evaluateSegment = (
  deps: { clickhouse: ClickHouseClient; log: EventLog; changesTopic: string },
  target: EvaluationTarget,
  options: EvaluationOptions,
) => evaluateSegments(deps, [target], options);
