// Child part: loads the data, serves the query API on it, and on request runs the segments service's evaluation passes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createEventLog, createLogger, createMetrics, loadConfig, named, waitFor, type Metrics } from '@cdp/runtime';
import { topicNames } from '@cdp/schemas';
import { buildPass, compileRule, createSegmentStore, passInputsOf, start as startSegments } from '@cdp/segments';
import { startPlatform } from '@cdp/cdp/platform';
import { report } from '../resolver/child';
import { loadArrivals, loadEvents, type LoadResult } from './load';

export interface Served {
  url: string;
  /** An admin key: segments are created and audiences exported with it. */
  key: string;
  load: LoadResult;
  runtime: 'kafka' | 'embedded';
}

export interface Pass {
  ms: number;
  entered: number;
  exited: number;
  published: number;
  /** Seconds in the store's calls during the pass, by call name, most first (calls may overlap). */
  queries: Array<{ name: string; seconds: number; calls: number }>;
}

export interface Evaluated {
  segments: number;
  /** Messages stored between the first pass and the second. */
  arrivals: number;
  passes: Pass[];
  members: number;
  /** Building one pass's segment_profiles alone, rolling up every survivor as a process's first pass does. */
  profilesAllMs: number;
  /** And again right after, rolling up only the survivors changed since, as every later pass does. */
  profilesChangedMs: number;
  /** The compiled member query of each segment alone, `SELECT count() FROM (…)`, on those profiles. */
  sqlAlone: Array<{ name: string; ms: number; members: number }>;
}

const events = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const profiles = Number(process.env.BENCH_PROFILES ?? 1_000_000);
const arrivals = Number(process.env.BENCH_ARRIVALS ?? 60_000);
const progress = (line: string) => process.stderr.write(`${line}\n`);

const keptDir = process.env.BENCH_DATA_DIR;
const dataDir = keptDir ?? mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-segments-'));
// The benchmark creates segments and reads audiences: an admin key holds every scope it needs.
const key = `ak_bench_key_${process.pid}_${Date.now()}`;
const runtime = process.env.KAFKA_BROKERS ? 'kafka' : 'embedded';
const config = loadConfig({
  CDP_DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: '0',
  CDP_ADMIN_KEY: key,
  CDP_TOPIC_PREFIX: `bench${process.pid}.`,
  KAFKA_BROKERS: process.env.KAFKA_BROKERS,
  LOG_LEVEL: 'warn',
});
const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench-segments' });
const platform = await startPlatform(config, logger, ['query-api']);
const clickhouse = platform.clickhouse.client;

/** Seconds and calls of the store's calls so far, by call name (`cdp_clickhouse_query_seconds`). */
async function queryTimes(metrics: Metrics): Promise<Map<string, { seconds: number; calls: number }>> {
  const times = new Map<string, { seconds: number; calls: number }>();
  const metric = metrics.registry.getSingleMetric('cdp_clickhouse_query_seconds');
  if (!metric) return times;
  for (const value of (await metric.get()).values) {
    const name = String(value.labels.query);
    const entry = times.get(name) ?? { seconds: 0, calls: 0 };
    // A histogram's values carry the series they belong to: its buckets, its sum, its count.
    const { metricName } = value as { metricName?: string };
    if (metricName?.endsWith('_sum')) entry.seconds += value.value;
    else if (metricName?.endsWith('_count')) entry.calls += value.value;
    else continue;
    times.set(name, entry);
  }
  return times;
}

const counted = async (metrics: Metrics, name: string, labels: Record<string, string> = {}) => {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))
    .reduce((sum, value) => sum + value.value, 0);
};

async function evaluate(): Promise<Evaluated> {
  const log = await createEventLog(config, logger);
  const topics = topicNames(config.topicPrefix);
  await log.ensureTopics([
    { name: topics.segmentChanges, partitions: config.topicPartitions },
    { name: topics.segmentsLeader, partitions: 1 },
    { name: topics.profileChanges, partitions: 1 },
  ]);
  const metrics = createMetrics();
  const published = async () =>
    Object.values(await log.endOffsets(topics.segmentChanges)).reduce((sum, offset) => sum + Number(offset), 0);
  const passes: Pass[] = [];
  const measurePass = async <T>(begin: () => Promise<T>): Promise<T> => {
    const before = {
      entered: await counted(metrics, 'cdp_segments_changes_total', { change: 'entered' }),
      exited: await counted(metrics, 'cdp_segments_changes_total', { change: 'exited' }),
    };
    const publishedBefore = await published();
    const evaluations = await counted(metrics, 'cdp_segments_evaluations_total');
    const timesBefore = await queryTimes(platform.metrics);
    const started = performance.now();
    const result = await begin();
    await waitFor(async () => (await counted(metrics, 'cdp_segments_evaluations_total')) > evaluations, {
      timeoutMs: 3_600_000,
      intervalMs: 20,
      what: 'an evaluation pass',
    });
    const ms = performance.now() - started;
    const queries = [...(await queryTimes(platform.metrics))]
      .map(([name, { seconds, calls }]) => ({
        name,
        seconds: seconds - (timesBefore.get(name)?.seconds ?? 0),
        calls: calls - (timesBefore.get(name)?.calls ?? 0),
      }))
      .filter((query) => query.calls > 0)
      .sort((a, b) => b.seconds - a.seconds);
    passes.push({
      queries,
      ms,
      entered: (await counted(metrics, 'cdp_segments_changes_total', { change: 'entered' })) - before.entered,
      exited: (await counted(metrics, 'cdp_segments_changes_total', { change: 'exited' })) - before.exited,
      published: (await published()) - publishedBefore,
    });
    progress(`evaluation pass ${passes.length}: ${Math.round(ms)} ms`);
    return result;
  };
  // The service creates the built-ins and evaluates every segment at once on start; a second pass follows on request.
  const service = await measurePass(() =>
    startSegments({
      log,
      topics,
      clickhouse,
      logger,
      metrics,
      intervalMs: 86_400_000,
      groupId: `${config.topicPrefix}cdp-segments`,
    }),
  );
  // A minute of live traffic, then the next pass, as the evaluation interval would run it.
  await loadArrivals(clickhouse, { events, profiles }, arrivals);
  await measurePass(() => service.evaluateSoon());
  await service.close();
  await log.close();

  const store = createSegmentStore(clickhouse);
  const definitions = await store.list();
  const sizes = await store.sizes();
  const sqlAlone: Evaluated['sqlAlone'] = [];
  // A pass's profiles built alone twice (everyone rolled up, then only what changed), and every rule run on the
  // second as the evaluator runs it.
  const inputs = passInputsOf(definitions.map((definition) => definition.rule));
  const timed = async (changedOnly: boolean) => {
    const started = performance.now();
    const pass = { id: Date.now(), ...inputs };
    await buildPass(clickhouse, pass, pass.id, { changedOnly });
    return { ms: performance.now() - started, pass };
  };
  const all = await timed(false);
  const changed = await timed(true);
  const { pass } = changed;
  const now = pass.id;
  for (const definition of definitions) {
    const compiled = compileRule(definition.rule, { now, pass });
    const started = performance.now();
    const result = await clickhouse.query(
      named('bench.countMembers', {
        query: `SELECT count() AS members FROM (${compiled.sql})`,
        query_params: compiled.params,
        format: 'JSONEachRow',
      }),
    );
    const [row] = await result.json<{ members: number }>();
    sqlAlone.push({ name: definition.name, ms: performance.now() - started, members: Number(row?.members ?? 0) });
  }
  return {
    segments: definitions.length,
    arrivals,
    passes,
    profilesAllMs: all.ms,
    profilesChangedMs: changed.ms,
    members: [...sizes.values()].reduce((sum, size) => sum + size, 0),
    sqlAlone,
  };
}

/**
 * With BENCH_PROFILE set, `work` runs under the V8 CPU profiler and the profile is written to bench-profiles/ (opened by
 * Chrome's DevTools): here rather than with `--cpu-prof`, which writes nothing when the process ends by a signal.
 */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!process.env.BENCH_PROFILE) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync('bench-profiles', { recursive: true });
    const file = path.join('bench-profiles', `segments-${name}-${Date.now()}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    progress(`CPU profile of the ${name}: ${file}`);
    session.disconnect();
  }
}

const load = await loadEvents(clickhouse, { events, profiles }, progress, Boolean(keptDir));
report({ url: platform.url as string, key, load, runtime } satisfies Served);

// The parent sends `evaluate` once its custom segments exist; closing stdin stops this process.
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === 'evaluate')
      void profiled('passes', evaluate).then(report, (error: unknown) => report({ error: String(error) }));
  })
  .on('close', () => {
    void platform
      .close()
      .finally(() => (keptDir ? undefined : rmSync(dataDir, { recursive: true, force: true })))
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
