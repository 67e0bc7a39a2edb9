// Child part: the whole platform (ingest, resolver, segments, query API) on the benchmark's store, with a consumer of
// the segment change feed noting when the first change of each profile arrived; the parent sends the traffic.
import { createInterface } from 'node:readline';
import { createLogger, loadConfig, waitFor } from '@cdp/runtime';
import { topicNames } from '@cdp/schemas';
import { startPlatform } from '@cdp/cdp/platform';
import { report } from '../resolver/child';

export interface FreshnessServed {
  url: string;
  writeKey: string;
  readKey: string;
  /** From the platform's start to the end of its first full pass of every segment. */
  firstPassMs: number;
}

export interface ChangeTimes {
  /** Per profile id asked for, the arrival times (epoch ms) of its segment changes, in order; [] when none came. */
  times: Record<string, number[]>;
  fullPasses: number;
  drift: number;
  /** Changes full passes made before following had read the changes behind them: its backlog, not drift. */
  aheadOfFollowing: number;
  /** Profiles evaluated again because a rule's time window passed a boundary. */
  swept: number;
}

const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR names the store to serve');
const suffix = `${process.pid}_${Date.now()}`;
const keys = { write: `wk_bench_write_${suffix}`, read: `ak_bench_admin_${suffix}` };
const config = loadConfig({
  CDP_DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: '0',
  CDP_WRITE_KEY: keys.write,
  CDP_ADMIN_KEY: keys.read,
  CDP_TOPIC_PREFIX: `fresh${process.pid}.`,
  KAFKA_BROKERS: process.env.KAFKA_BROKERS,
  CDP_SEGMENTS_FOLLOW: process.env.CDP_SEGMENTS_FOLLOW ?? 'true',
  CDP_SEGMENTS_INTERVAL_MS: process.env.CDP_SEGMENTS_INTERVAL_MS,
  LOG_LEVEL: 'warn',
});
const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench-freshness' });
const started = performance.now();
const platform = await startPlatform(config, logger);
const counter = async (name: string) => {
  const metric = platform.metrics.registry.getSingleMetric(name);
  return metric ? (await metric.get()).values.reduce((sum, value) => sum + value.value, 0) : 0;
};
await waitFor(async () => (await counter('cdp_segments_evaluations_total')) >= 1, {
  timeoutMs: 3_600_000,
  intervalMs: 50,
  what: 'the first full pass',
});
const firstPassMs = performance.now() - started;

// Arrival of every change, by profile: the feed is keyed by profile id.
const arrivals = new Map<string, number[]>();
const topic = topicNames(config.topicPrefix).segmentChanges;
const feed = await platform.log!.consume({
  groupId: `${config.topicPrefix}bench-feed`,
  topics: [topic],
  startOffsets: { [topic]: await platform.log!.endOffsets(topic) },
  async handleBatch(batch) {
    const now = Date.now();
    for (const record of batch.records) {
      const profileId = record.key ?? '';
      const list = arrivals.get(profileId);
      if (list) list.push(now);
      else arrivals.set(profileId, [now]);
    }
  },
});
report({ url: platform.url, writeKey: keys.write, readKey: keys.read, firstPassMs } satisfies FreshnessServed);

// The parent asks with `times <JSON array of profile ids>`; closing stdin stops this process.
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (!line.startsWith('times ')) return;
    const profileIds = JSON.parse(line.slice('times '.length)) as string[];
    void (async () => {
      const times = Object.fromEntries(profileIds.map((profileId) => [profileId, arrivals.get(profileId) ?? []]));
      report({
        times,
        fullPasses: await counter('cdp_segments_evaluations_total'),
        drift: await counter('cdp_segments_drift_total'),
        aheadOfFollowing: await counter('cdp_segments_ahead_of_following_total'),
        swept: await counter('cdp_segments_swept_profiles_total'),
      } satisfies ChangeTimes);
    })();
  })
  .on('close', () => {
    void feed
      .close()
      .then(() => platform.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
