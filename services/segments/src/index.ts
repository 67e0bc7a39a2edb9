// The segments service: built-in definitions, the evaluation loop, membership in ClickHouse and the change feed.
import type { Logger } from 'pino';
import type { ClickHouseClient, EventLog, Metrics } from '@cdp/runtime';
import type { TopicNames } from '@cdp/schemas';
import { ensureBuiltins } from './builtins';
import { createSegmentStore } from './definitions';
import { startEvaluator } from './evaluator';

export { compileRule, type CompiledRule } from './compile';
export { createSegmentStore, type SegmentDefinition, type SegmentKind, type SegmentStore } from './definitions';
export { previewRule, type Preview } from './preview';
export { builtinSegments, lifecycleDays } from './builtins';
export { buildPass, latestPass, passInputsOf, type Pass } from './passes';
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
  const evaluator = await startEvaluator({ ...deps, store, logger, groupId: deps.groupId ?? 'cdp-segments' });
  logger.info({ intervalMs: deps.intervalMs }, 'segments evaluating');
  return { evaluateSoon: () => evaluator.request('changed'), close: () => evaluator.close() };
}
