// The segments service: built-in definitions, the evaluation loop, membership in ClickHouse and the change feed.
import type { Logger } from 'pino';
import type { ClickHouseClient, EventLog, Metrics } from '@cdp/runtime';
import type { TopicNames } from '@cdp/schemas';
import { ensureBuiltins } from './builtins';
import { createSegmentStore } from './definitions';
import { leadBeatMs, startEvaluator } from './evaluator';
import { startFollower, type Follower, type FollowerDeps } from './follow';
import { createTurns } from './turns';

export { compileRule, type CompiledRule } from './compile';
export { createSegmentStore, type SegmentDefinition, type SegmentKind, type SegmentStore } from './definitions';
export { previewRule, type Preview } from './preview';
export { builtinSegments, lifecycleDays } from './builtins';
export { buildChangedPass, buildPass, everyoneRolledUpAt, latestPass, passInputsOf, type Pass } from './passes';
export { latestMovements, latestRfmGrid, type Movements, type RfmGrid } from './latest-pass';

export interface SegmentsDeps {
  log: EventLog;
  topics: TopicNames;
  clickhouse: ClickHouseClient;
  logger: Logger;
  metrics: Metrics;
  /** How often every segment is evaluated again; a definition change triggers one at once. */
  intervalMs: number;
  groupId?: string;
  /** Re-evaluate each changed profile as the resolver reports it (on by default); full passes alone when false. */
  follow?: boolean;
  /** While following, how often profiles whose time windows passed a boundary are evaluated again (default a minute). */
  sweepEveryMs?: number;
}

export interface SegmentsService {
  /** Asks for an evaluation of every segment now (served by whichever instance is the evaluator). */
  evaluateSoon(): Promise<void>;
  close(): Promise<void>;
}

export async function start(deps: SegmentsDeps): Promise<SegmentsService> {
  const logger = deps.logger.child({ component: 'segments' });
  const store = createSegmentStore(deps.clickhouse);
  const created = await ensureBuiltins(store);
  if (created > 0) logger.info({ created }, 'created built-in segments');
  const groupId = deps.groupId ?? 'cdp-segments';
  // Full passes and followed changes take turns in this process (chDB runs one query at a time anyway), and only the
  // evaluator follows: two processes deciding the same profile at once could both publish its change.
  const turns = createTurns();
  const leading =
    deps.follow === false ? null : followWhileLeading({ ...deps, store, logger, groupId: `${groupId}-follow`, turns });
  // Sweeping time windows belongs with following: with full passes alone, those passes decide the windows too.
  const following = leading
    ? {
        onLead: leading.lead,
        sweep: { everyMs: deps.sweepEveryMs ?? 60_000, while: leading.following },
        follower: { position: leading.position },
      }
    : { sweep: undefined, follower: undefined };
  const evaluator = await startEvaluator({ ...deps, store, logger, groupId, turns, ...following });
  logger.info({ intervalMs: deps.intervalMs, follow: leading !== null }, 'segments evaluating');
  return {
    evaluateSoon: () => evaluator.request('changed'),
    async close() {
      await evaluator.close();
      await leading?.close();
    },
  };
}

/**
 * Runs the follower while this instance is the evaluator: it starts when the leader topic's records first reach this
 * instance, and stops when none has for three beats (every instance sends one a beat, so the evaluator hears one at
 * least that often: within a minute of losing the role, a former evaluator stops). When the role moves, the new
 * evaluator's follower goes on from the group's committed offsets; until the old one's lapses both may follow, and a
 * change may then be published twice.
 */
function followWhileLeading(deps: FollowerDeps & { intervalMs: number }): {
  lead(): void;
  following(): boolean;
  /** The follower's position while it follows, else null. */
  position(): Record<number, string> | null;
  close(): Promise<void>;
} {
  let follower: Promise<Follower> | null = null;
  let started: Follower | null = null;
  let lastLedAt = 0;
  let closed = false;
  const stop = async () => {
    const stopping = follower;
    follower = null;
    started = null;
    await (await stopping?.catch(() => null))?.close();
  };
  const beat = leadBeatMs(deps.intervalMs);
  const lapse = setInterval(() => {
    if (follower && Date.now() - lastLedAt > 3 * beat) {
      deps.logger.info('no longer the evaluator: not following profile changes');
      void stop();
    }
  }, beat);
  lapse.unref();
  return {
    lead() {
      lastLedAt = Date.now();
      if (follower || closed) return;
      const starting = startFollower(deps);
      follower = starting;
      starting.then(
        (one) => {
          if (follower === starting) started = one;
        },
        (error: unknown) => {
          deps.logger.error({ err: error }, 'could not follow profile changes; trying again at the next request');
          if (follower === starting) follower = null;
        },
      );
    },
    following: () => follower !== null,
    position: () => started?.position() ?? null,
    async close() {
      closed = true;
      clearInterval(lapse);
      await stop();
    },
  };
}
