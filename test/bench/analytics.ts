// `pnpm bench analytics`: latency of the analytics API over 10M events in chDB, next to plain hand-written SQL.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, loadConfig, named, type ClickHouseClient } from '@cdp/runtime';
import { startPlatform } from '@cdp/cdp/platform';
import { loadEvents } from './analytics/load';
import { questions, type Question } from './analytics/questions';

const usage = `usage: pnpm bench analytics

Generates a year of events inside a fresh chDB store (migrations applied by the platform), merges the
parts of profile_firsts as the store does once they are ten minutes old, starts the query API on it and
times each analytics endpoint over HTTP, UTC and Asia/Ho_Chi_Minh, against the same question asked by
plain hand-written SQL over the events table, on the same chDB connection. One more answer of each side
is asked with the store's running calls sampled every 10 ms: the most memory one call held (peak MB).

environment:
  BENCH_EVENTS    events generated (default 10000000; 1% are retried copies)
  BENCH_PROFILES  stored profiles (default 1000000; 2% are merged into another)
  BENCH_RUNS      timed runs of each query after 2 warm-ups (default 20)
  BENCH_DATA_DIR  keep the store in this directory and reuse its events on the next run (default: a temp dir, removed)
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}

const events = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const profiles = Number(process.env.BENCH_PROFILES ?? 1_000_000);
const runs = Number(process.env.BENCH_RUNS ?? 20);
const warmUps = 2;

const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`${line}\n`);
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');

/** The nearest-rank percentile of some durations. */
function percentile(durations: number[], share: number): number {
  const sorted = [...durations].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] ?? NaN;
}

interface Measured {
  question: Question;
  api: number[];
  handWritten: number[];
  apiHeadline: number;
  handWrittenHeadline: number;
  /** The most memory (bytes) one store call held while each side answered once more. */
  apiPeak: number;
  handWrittenPeak: number;
}

/**
 * The most memory one call of the store held while `work` ran: `peak_memory_usage` of its running calls, sampled every
 * 10 ms (the sampling call itself left out). A call shorter than the interval may be missed; the heavy ones are not.
 */
async function peakCallMemory(client: ClickHouseClient, work: () => Promise<unknown>): Promise<number> {
  let working = true;
  let peak = 0;
  const sampling = (async () => {
    while (working) {
      const result = await client.query(
        named('bench.runningPeak', {
          query:
            "SELECT max(peak_memory_usage) AS peak FROM system.processes WHERE query NOT LIKE '%bench.runningPeak%'",
          format: 'JSONEachRow',
        }),
      );
      peak = Math.max(peak, Number((await result.json<{ peak: string }>())[0]?.peak ?? 0));
      await sleep(10);
    }
  })();
  try {
    await work();
  } finally {
    working = false;
    await sampling;
  }
  return peak;
}

async function main(): Promise<void> {
  const keptDir = process.env.BENCH_DATA_DIR;
  const dataDir = keptDir ?? mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-analytics-'));
  const readKey = `rk_bench_key_${process.pid}_${Date.now()}`;
  const config = loadConfig({
    CDP_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    CDP_READ_KEY: readKey,
    LOG_LEVEL: 'warn',
    // Every timed request computes its answer: the timings are of the queries, not of the shared answers.
    CDP_ANALYTICS_CACHE_SECONDS: '0',
  });
  const platform = await startPlatform(config, createLogger({ level: 'warn', name: 'bench' }), ['query-api']);
  try {
    const client = platform.clickhouse.client;
    const loaded = await loadEvents(client, { events, profiles }, progress, Boolean(keptDir));

    async function askApi(question: Question): Promise<{ ms: number; body: Record<string, unknown> }> {
      const started = performance.now();
      const response = await fetch(`${platform.url}${question.path}?${new URLSearchParams(question.query)}`, {
        headers: { authorization: `Bearer ${readKey}` },
      });
      const body = (await response.json()) as Record<string, unknown>;
      const ms = performance.now() - started;
      if (response.status !== 200) throw new Error(`${question.path}: ${response.status} ${JSON.stringify(body)}`);
      return { ms, body };
    }
    async function askSql(question: Question): Promise<{ ms: number; results: Record<string, unknown>[][] }> {
      const started = performance.now();
      const results: Record<string, unknown>[][] = [];
      for (const query of question.handWritten) {
        const result = await client.query(
          named('bench.handWritten', { query, query_params: question.params, format: 'JSONEachRow' }),
        );
        results.push(await result.json<Record<string, unknown>>());
      }
      return { ms: performance.now() - started, results };
    }

    const measured: Measured[] = [];
    for (const question of questions()) {
      progress(`timing ${question.name}, ${question.query.tz}`);
      let apiHeadline = NaN;
      let handWrittenHeadline = NaN;
      const api: number[] = [];
      const handWritten: number[] = [];
      // Alternating, so both sides see the same background load.
      for (let run = 0; run < warmUps + runs; run += 1) {
        const fromApi = await askApi(question);
        const fromSql = await askSql(question);
        if (run < warmUps) {
          apiHeadline = question.headline.api(fromApi.body);
          handWrittenHeadline = question.headline.handWritten(fromSql.results);
          continue;
        }
        api.push(fromApi.ms);
        handWritten.push(fromSql.ms);
      }
      const apiPeak = await peakCallMemory(client, () => askApi(question));
      const handWrittenPeak = await peakCallMemory(client, () => askSql(question));
      measured.push({ question, api, handWritten, apiHeadline, handWrittenHeadline, apiPeak, handWrittenPeak });
      progress(
        `  p50/p95 ${thousands(percentile(api, 0.5))}/${thousands(percentile(api, 0.95))} ms, hand-written ${thousands(percentile(handWritten, 0.5))}/${thousands(percentile(handWritten, 0.95))} ms`,
      );
    }

    out(
      `\nanalytics benchmark: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, chDB in process; ` +
        `p50/p95 of ${runs} runs after ${warmUps} warm-ups; the machine is shared, so timings are noisy\n`,
    );
    out(
      `data: ${thousands(loaded.storedRows)} stored event rows (${thousands(loaded.distinctMessages)} distinct messages, ${thousands(loaded.purchases)} purchase rows), ` +
        `${thousands(loaded.profiles)} resolved profiles (${thousands(loaded.merges)} merged away), ${thousands(loaded.diskMb)} MB on disk; ` +
        (loaded.seconds > 0
          ? `generated and loaded in ${thousands(loaded.seconds)} s (both materialized views included)\n`
          : `reused from ${keptDir}\n`),
    );
    out(
      '| endpoint | tz | p50 ms | p95 ms | target | hand-written SQL p50 / p95 ms | peak MB of a call: API / hand-written | verdict |',
    );
    out('|---|---|---|---|---|---|---|---|');
    for (const { question, api, handWritten, apiHeadline, handWrittenHeadline, apiPeak, handWrittenPeak } of measured) {
      const p95 = percentile(api, 0.95);
      const handP95 = percentile(handWritten, 0.95);
      const meets = question.target === null ? 'no target' : p95 <= question.target ? 'meets target' : 'misses target';
      const pace = p95 <= handP95 ? 'no slower than hand-written' : `${(p95 / handP95).toFixed(1)}× hand-written p95`;
      const agree =
        apiHeadline === handWrittenHeadline ? '' : `; headline differs: API ${apiHeadline}, SQL ${handWrittenHeadline}`;
      out(
        `| ${question.path.replace('/v1/analytics/', '')}: ${question.name} | ${question.query.tz} | ${thousands(percentile(api, 0.5))} | ${thousands(p95)} | ` +
          `${question.target === null ? '—' : `p95 ≤ ${question.target}`} | ${thousands(percentile(handWritten, 0.5))} / ${thousands(handP95)} | ${thousands(apiPeak / 2 ** 20)} / ${thousands(handWrittenPeak / 2 ** 20)} | ${meets}; ${pace}${agree} |`,
      );
    }
  } finally {
    await platform.close();
    if (!keptDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
