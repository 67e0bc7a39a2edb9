// Some profiles evaluated again against every segment between full passes: those a change record names (follow.ts),
// and those whose time windows passed a boundary (sweep.ts).
import type { Logger } from 'pino';
import { absorbedIdsOf, survivorsOfStored } from '@cdp/profiles';
import type { ClickHouseClient, EventLog, Metrics } from '@cdp/runtime';
import type { SegmentStore } from './definitions';
import { evaluateSegments, type EvaluationResult } from './evaluate';
import { buildChangedPass, dropPasses, latestPass } from './passes';
import type { Turns } from './turns';

export interface ReevaluationDeps {
  clickhouse: ClickHouseClient;
  log: EventLog;
  changesTopic: string;
  store: SegmentStore;
  logger: Logger;
  turns: Turns;
  /** Told the changes each evaluation published. */
  counted(result: EvaluationResult): void;
}

/** The deps of a service's evaluations of some profiles, counting their changes with the full passes'. */
export function reevaluationOf(
  deps: {
    clickhouse: ClickHouseClient;
    log: EventLog;
    topics: { segmentChanges: string };
    store: SegmentStore;
    turns: Turns;
    metrics: Metrics;
  },
  logger: Logger,
): ReevaluationDeps {
  const changes = deps.metrics.counter('cdp_segments_changes_total', 'Segment membership changes published', [
    'change',
  ]);
  return {
    clickhouse: deps.clickhouse,
    log: deps.log,
    changesTopic: deps.topics.segmentChanges,
    store: deps.store,
    logger,
    turns: deps.turns,
    counted(result) {
      changes.inc({ change: 'entered' }, result.entered);
      changes.inc({ change: 'exited' }, result.exited);
    },
  };
}

/**
 * Evaluates every segment again for the survivors of the `named` stored profile ids (their survivor now: a record may
 * name a profile absorbed since), as seen at `now`; the ids they absorbed, and `merged`, leave every segment as
 * profiles. Returns how many survivors it evaluated; none before the first full pass, which evaluates everyone.
 * Call it inside a turn.
 */
export async function reevaluateProfiles(
  deps: ReevaluationDeps,
  named: string[],
  merged: string[],
  now: number,
): Promise<number> {
  const scoredBy = await latestPass(deps.clickhouse);
  // Before the first full pass nothing is stored to compare with: that pass evaluates everyone.
  if (!scoredBy) return 0;
  const survivors = [...new Set(await survivorsOfStored(deps.clickhouse, [...new Set(named)]))].sort();
  const absorbed = await absorbedIdsOf(deps.clickhouse, survivors);
  const scope = [...new Set([...named, ...survivors, ...absorbed, ...merged])].sort();
  const version = deps.turns.nextVersion(now);
  const pass = { id: version, traitKeys: scoredBy.traitKeys, behaviours: scoredBy.behaviours };
  // Whether every segment was decided for these profiles: only then may a full pass under way leave them to it.
  let decided = false;
  try {
    await buildChangedPass(
      deps.clickhouse,
      pass,
      { survivors, stored: [...new Set([...survivors, ...absorbed])] },
      now,
      scoredBy,
    );
    const targets = (await deps.store.list()).map((definition) => ({
      segmentId: definition.id,
      rule: definition.rule,
    }));
    const evaluation = { clickhouse: deps.clickhouse, log: deps.log, changesTopic: deps.changesTopic };
    const options = { now, version, pass, scope };
    try {
      // Every segment in one diff: a few profiles cost a handful of queries, not a handful per segment.
      deps.counted(await evaluateSegments(evaluation, targets, options));
      decided = true;
    } catch (error) {
      // One broken segment must not hold the others back: each alone, and the broken one is left to the next full pass.
      deps.logger.warn(
        { err: error },
        'changed profiles could not be evaluated against every segment at once; one segment at a time',
      );
      await dropPasses(deps.clickhouse, 'segment_diffs', { below: 0, exactly: version });
      let failed = 0;
      for (const target of targets) {
        try {
          deps.counted(await evaluateSegments(evaluation, [target], options));
        } catch (failure) {
          failed += 1;
          deps.logger.error(
            { err: failure, segmentId: target.segmentId },
            'segment evaluation of changed profiles failed',
          );
        }
      }
      decided = failed === 0;
    }
  } finally {
    // A full pass under way leaves these profiles as this evaluation decided them (it reads its pass of them), and
    // drops the pass when it ends; an evaluation that failed for some segment decided nothing the pass may skip.
    if (!decided || !deps.turns.keep(version))
      await dropPasses(deps.clickhouse, 'segment_profiles', { below: 0, exactly: version });
    await dropPasses(deps.clickhouse, 'segment_diffs', { below: 0, exactly: version });
  }
  return survivors.length;
}
