// The evaluation loop: one evaluator at a time, chosen by the single-partition segments.leader topic's consumer group.
import type { Logger } from 'pino';
import type { ClickHouseClient, ConsumedRecord, EventLog, LogConsumer, Metrics } from '@cdp/runtime';
import type { TopicNames } from '@cdp/schemas';
import type { SegmentStore } from './definitions';
import { usesRfm } from './compile';
import { evaluateSegment } from './evaluate';
import { buildPass, dropPasses, everyoneRolledUpAt, passInputsOf, recordEvaluated } from './passes';
import { reevaluationOf } from './reevaluate';
import { sweepWindows } from './sweep';
import type { Turns } from './turns';

export interface EvaluatorDeps {
  log: EventLog;
  topics: Pick<TopicNames, 'segmentChanges' | 'segmentsLeader' | 'profileChanges'>;
  clickhouse: ClickHouseClient;
  store: SegmentStore;
  logger: Logger;
  metrics: Metrics;
  groupId: string;
  intervalMs: number;
  turns: Turns;
  /** Called whenever this instance hears requests on the leader topic: it is the evaluator now. */
  onLead?: () => void;
  /**
   * How often the evaluator looks for profiles whose time windows passed a boundary (sweep.ts), and only while
   * `while` says so (this instance follows profile changes); never when absent.
   */
  sweep?: { everyMs: number; while: () => boolean } | undefined;
  /**
   * Where this process's following of profile changes is (the next offset per partition; null while it does not
   * follow): a full pass counts as drift only the changes following should have made already. Without it nothing
   * is counted as drift.
   */
  follower?: { position: () => Record<number, string> | null } | undefined;
}

/**
 * Whether a position (the next offset per partition) is at or past `ends` (end offsets read earlier) in every
 * partition: every record appended before them was read. A partition that was empty then needs nothing.
 */
export function reached(position: Record<number, string>, ends: Record<number, string>): boolean {
  return Object.entries(ends).every(([partition, end]) => {
    const at = position[Number(partition)];
    return BigInt(end) === 0n || (at !== undefined && BigInt(at) >= BigInt(end));
  });
}

/**
 * How often every instance tells the leader topic it is there, so the evaluator hears the topic at least this often:
 * an instance that has not heard it for three beats is no longer the evaluator.
 */
export const leadBeatMs = (intervalMs: number) => Math.min(intervalMs, 20_000);

/** Runs `work` on every item, at most `width` at once; each item's failure is `work`'s to handle. */
export async function eachOf<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** How often a pass rolls up every survivor again, not only the changed ones. */
export const fullRollUpEveryMs = 3_600_000;

/** Why a record is on the leader topic: time for a pass, a definition changed, or only an instance saying it is there. */
type Reason = 'interval' | 'changed' | 'beat';

export interface Evaluator {
  /** Asks the group's evaluator (maybe another instance) to evaluate every segment soon. */
  request(reason: Reason): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every instance produces evaluation requests to `segments.leader` (one partition) on a timer and when it sees a
 * definition change; the log hands that partition to one member of the consumer group, so only that member
 * evaluates, and another takes over when it leaves. Requests made before an evaluation started are covered by it,
 * and interval requests of several instances coalesce into one evaluation per half interval.
 */
export async function startEvaluator(deps: EvaluatorDeps): Promise<Evaluator> {
  const logger = deps.logger.child({ component: 'segments-evaluator' });
  // Full passes count their changes as the evaluations of some profiles do.
  const reevaluation = reevaluationOf(deps, logger);
  const evaluations = deps.metrics.counter('cdp_segments_evaluations_total', 'Evaluations of every segment', [
    'outcome',
  ]);
  const evaluationSeconds = deps.metrics.histogram(
    'cdp_segments_evaluation_seconds',
    'Duration of a pass evaluating every segment, from reading the definitions to the last change published',
    [],
    [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  );
  const drift = deps.metrics.counter(
    'cdp_segments_drift_total',
    'Changes a full pass made to segments unchanged since the previous one, which following profile changes missed: every profile change record written before the pass began had been followed (RFM groups, which every order re-ranks, left out)',
  );
  const ahead = deps.metrics.counter(
    'cdp_segments_ahead_of_following_total',
    'Changes a full pass made to segments unchanged since the previous one while following had not yet read every profile change record written before the pass began: its backlog, not drift',
  );
  /**
   * Whether following had read every profile change record written before a full pass began (`unreadAtStart`, the
   * end offsets then), so that changes the pass makes now are drift rather than following's backlog. Asked before
   * each segment's diff until it holds.
   */
  function followedSince(unreadAtStart: Record<number, string> | null): () => boolean {
    let done = false;
    return () => {
      const position = deps.follower?.position() ?? null;
      done ||= unreadAtStart !== null && position !== null && reached(position, unreadAtStart);
      return done;
    };
  }
  let lastStartedAt = 0;
  // Each definition's last change as the previous full pass of this process read it.
  let previousDefinitions = new Map<string, string>();
  // A pass rolls up only the survivors that changed, and once an hour (counted from the latest roll-up of everyone
  // the store records, also one of an earlier process) everyone again: a write that became visible later than the
  // commit margin allows (a lagging replica, a stepped clock) is missed by the incremental roll-ups, and this bounds
  // how long.
  let rolledUpAllAt: number | null = null;
  // Time windows are decided for everyone up to this instant: the start of this process's latest full pass, or the
  // latest sweep's end. Null until this process's first full pass.
  let sweptUntil: number | null = null;

  async function evaluateAll(): Promise<void> {
    const now = Date.now();
    lastStartedAt = now;
    const version = deps.turns.nextVersion(now);
    const definitions = await deps.store.list();
    // Segments deleted since their members were stored: evaluating them as empty makes every member exit. Membership
    // of ids that were never defined here is left alone: this evaluator did not write it.
    const deleted = await deps.store.deletedWithMembers();
    const targets = [
      ...definitions.map((definition) => ({ segmentId: definition.id, rule: definition.rule })),
      ...deleted.map((segmentId) => ({ segmentId, rule: null })),
    ];
    // The pass's profiles, rolled up once for every rule; the version names the pass.
    const pass = { id: version, ...passInputsOf(definitions.map((definition) => definition.rule)) };
    // A process's first pass goes on from the latest pass's roll-up of everyone, if one is recorded.
    rolledUpAllAt ??= await everyoneRolledUpAt(deps.clickhouse);
    const changedOnly = rolledUpAllAt !== null && now - rolledUpAllAt < fullRollUpEveryMs;
    // What following had yet to read when the pass began: changes of those profiles the pass makes first are not drift.
    const unreadAtStart: Record<number, string> | null = deps.follower?.position()
      ? await deps.log.endOffsets(deps.topics.profileChanges).catch(() => null)
      : null;
    // A full pass builds its profiles beside followed changes and takes a turn for each segment, so followed changes
    // need not wait for the whole of it; a profile they decide meanwhile is left to them (a later version, and their
    // kept passes).
    let failed = 0;
    deps.turns.fullPassBegan(version);
    try {
      const replaced = await buildPass(deps.clickhouse, pass, now, {
        changedOnly,
        followed: deps.follower !== undefined,
        inTurn: (step) => deps.turns.run(step),
      });
      if (!changedOnly) rolledUpAllAt = now;
      const followed = followedSince(unreadAtStart);
      const evaluateTarget = async (target: (typeof targets)[number]): Promise<void> => {
        try {
          const definition = definitions.find((each) => each.id === target.segmentId);
          const reconciles =
            deps.follower !== undefined &&
            definition !== undefined &&
            previousDefinitions.get(definition.id) === definition.updatedAt &&
            !usesRfm(definition.rule);
          // Asked before the diff: a record followed after it began may still be what the diff found.
          const drifted = reconciles && followed();
          const result = await evaluateSegment(
            { clickhouse: deps.clickhouse, log: deps.log, changesTopic: deps.topics.segmentChanges },
            target,
            { now, version, pass, decidedAfter: deps.turns.decidedAfter(version) },
          );
          reevaluation.counted(result);
          if (reconciles) (drifted ? drift : ahead).inc(result.entered + result.exited);
        } catch (error) {
          // One broken segment must not hold the others back; it is tried again at the next evaluation.
          failed += 1;
          logger.error({ err: error, segmentId: target.segmentId }, 'segment evaluation failed');
        }
      };
      if (replaced === null) {
        // A store's first pass (none before it) built its profiles in one turn and evaluates its segments in one more,
        // two at a time: one's diff runs in the store while the other's changes are published. Followed changes wait
        // for it, a new store's one-off, as they waited for its profiles.
        await deps.turns.run(() => eachOf(targets, 2, evaluateTarget));
      } else {
        for (const target of targets) await deps.turns.run(() => evaluateTarget(target));
      }
      // Sizes and movements are dated by this pass from now on (a segment that failed keeps its previous ones).
      await recordEvaluated(deps.clickhouse, version);
      previousDefinitions = new Map(definitions.map((definition) => [definition.id, definition.updatedAt]));
      await deps.turns.run(() => dropPassesBefore(Math.min(pass.id, replaced?.id ?? pass.id), version));
    } finally {
      await deps.turns.run(async () => {
        for (const decided of deps.turns.fullPassEnded())
          await dropPasses(deps.clickhouse, 'segment_profiles', { below: 0, exactly: decided });
      });
    }
    sweptUntil = Math.max(sweptUntil ?? 0, now);
    evaluations.inc({ outcome: failed === 0 ? 'ok' : 'partial' });
    evaluationSeconds.observe((Date.now() - now) / 1000);
    logger.debug({ segments: targets.length, failed, ms: Date.now() - now }, 'evaluated segments');
  }

  /**
   * Keeps the pass this one replaced, which previews and a slower evaluator may still read, and drops older ones;
   * this pass's diffs are published and stored by now, and older diffs are left over from a crash.
   */
  async function dropPassesBefore(keepFrom: number, version: number): Promise<void> {
    await dropPasses(deps.clickhouse, 'segment_profiles', { below: keepFrom });
    await dropPasses(deps.clickhouse, 'segment_diffs', { below: keepFrom, exactly: version });
  }

  // Evaluations run beside the batch handler, one at a time: a handler that outlasts Kafka's session timeout
  // (kafkajs heartbeats between batches) would get this member evicted and the evaluator role bounced around.
  let running: Promise<void> | null = null;
  let pending = false;
  function schedule(): void {
    pending = true;
    if (running) return;
    running = (async () => {
      while (pending) {
        pending = false;
        await evaluateAll().catch((error: unknown) => logger.error({ err: error }, 'segment evaluation failed'));
      }
    })().finally(() => {
      running = null;
    });
  }

  const requestedAt = (record: ConsumedRecord) => Number(record.headers.at ?? record.timestamp);

  const consumer: LogConsumer = await deps.log.consume({
    groupId: deps.groupId,
    topics: [deps.topics.segmentsLeader],
    // A group that never committed starts at the end: old requests were served by whoever evaluated then.
    startOffsets: { [deps.topics.segmentsLeader]: await deps.log.endOffsets(deps.topics.segmentsLeader) },
    async handleBatch(batch) {
      deps.onLead?.();
      const requests = batch.records.filter((record) => record.headers.reason !== 'beat');
      if (requests.length === 0) return;
      const newest = Math.max(...requests.map(requestedAt));
      if (newest <= lastStartedAt) return;
      const changed = requests.some(
        (record) => record.headers.reason === 'changed' && requestedAt(record) > lastStartedAt,
      );
      if (!changed && Date.now() - lastStartedAt < deps.intervalMs / 2) return;
      schedule();
    },
  });

  async function request(reason: Reason): Promise<void> {
    await deps.log.produce(deps.topics.segmentsLeader, [
      { key: 'evaluate', value: Buffer.alloc(0), headers: { reason, at: String(Date.now()) } },
    ]);
  }

  let closed = false;
  const failedRequest = (error: unknown) => logger.warn({ err: error }, 'could not request a segment evaluation');
  const intervalTimer = setInterval(() => void request('interval').catch(failedRequest), deps.intervalMs);
  const beat = leadBeatMs(deps.intervalMs);
  const beatTimer = deps.intervalMs > beat ? setInterval(() => void request('beat').catch(failedRequest), beat) : null;

  // Only the evaluator sweeps, after its first full pass, one sweep at a time.
  const swept = deps.metrics.counter(
    'cdp_segments_swept_profiles_total',
    'Profiles evaluated again because a time window of a rule passed a boundary',
  );
  let sweeping: Promise<void> | null = null;
  const sweep = deps.sweep;
  const sweepTimer = sweep
    ? setInterval(() => {
        const from = sweptUntil;
        if (sweeping || closed || from === null || !sweep.while()) return;
        const to = Date.now();
        sweeping = sweepWindows(reevaluation, from, to)
          .then((count) => {
            swept.inc(count);
            sweptUntil = Math.max(sweptUntil ?? 0, to);
            if (count > 0)
              logger.debug({ profiles: count, ms: Date.now() - to }, 'swept profiles whose time windows passed');
          })
          .catch((error: unknown) =>
            logger.error({ err: error }, 'sweep of time windows failed; tried again at the next'),
          )
          .finally(() => {
            sweeping = null;
          });
      }, sweep.everyMs)
    : null;
  // Definitions change through the query API, possibly in another process: a cheap poll notices within a second.
  let mark = await deps.store.changeMark();
  let polling: Promise<void> | null = null;
  const pollTimer = setInterval(
    () => {
      if (polling || closed) return;
      polling = deps.store
        .changeMark()
        .then(async (next) => {
          if (next === mark) return;
          mark = next;
          await request('changed');
        })
        .catch(failedRequest)
        .finally(() => {
          polling = null;
        });
    },
    Math.min(1000, deps.intervalMs),
  );
  await request('changed');

  return {
    request,
    async close() {
      closed = true;
      clearInterval(intervalTimer);
      clearInterval(pollTimer);
      if (beatTimer) clearInterval(beatTimer);
      if (sweepTimer) clearInterval(sweepTimer);
      await polling;
      await sweeping;
      await consumer.close();
      await running;
    },
  };
}
